step javac javac -d out src/Hello.java
step run sh -c 'java -cp out Hello | grep -qx "hello 49"'
