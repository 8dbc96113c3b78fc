step build cargo build --offline
step test cargo test --offline
step doctest sh -c 'cargo test --offline --doc 2>&1 | grep -q "src/lib.rs - add (line"'
