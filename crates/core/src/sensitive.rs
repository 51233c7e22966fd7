//! A wrapper for secrets so they cannot leak through `Debug` output or logs.

/// A secret value (a session token). `Debug` prints `<redacted>`; read it with [`Sensitive::expose`]
/// only where it leaves the process on purpose (an `Authorization` header, the keychain).
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself. Call sites are the places a reviewer checks.
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_secret() {
        let token = Sensitive::new(String::from("tok-7f3a9c"));
        let printed = format!("{token:?} {:#?}", Some(&token));
        assert!(
            !printed.contains("tok-7f3a9c"),
            "Debug must redact: {printed}"
        );
        assert!(printed.contains("<redacted>"));
        assert_eq!(token.expose(), "tok-7f3a9c");
    }
}
