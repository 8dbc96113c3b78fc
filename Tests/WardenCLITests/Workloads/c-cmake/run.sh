step configure cmake -S . -B build
step build cmake --build build -j 2
step ctest ctest --test-dir build --output-on-failure
