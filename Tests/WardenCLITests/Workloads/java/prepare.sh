mkdir -p src
cat > src/Hello.java <<'J'
public class Hello {
    static int square(int x) { return x * x; }
    public static void main(String[] args) {
        if (square(12) != 144) throw new AssertionError("square");
        System.out.println("hello " + square(7));
    }
}
J
printf 'out/\n' > .gitignore
