mkdir -p src
cat > Cargo.toml <<'T'
[package]
name = "matrix_calc"
version = "0.1.0"
edition = "2021"
T
cat > src/lib.rs <<'R'
/// Adds two numbers.
///
/// ```
/// assert_eq!(matrix_calc::add(2, 3), 5);
/// ```
pub fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[cfg(test)]
mod tests {
    #[test]
    fn adds() {
        assert_eq!(super::add(-2, 2), 0);
    }
}
R
cargo generate-lockfile --offline >/dev/null 2>&1 || { echo "cargo could not write Cargo.lock offline"; exit 1; }
printf 'target/\n' > .gitignore
