//! Passwords (argon2) and bearer tokens (32 random bytes, hex on the wire, SHA-256 at rest).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

/// Random bytes in a fresh token.
const TOKEN_BYTES: usize = 32;

/// The operating system's random source failed, or argon2 refused its input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    #[error("the system random source failed: {0}")]
    Random(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// A new random token: the string handed to the client once.
pub fn new_token() -> Result<String, CredentialError> {
    let mut bytes = [0_u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|error| CredentialError::Random(error.to_string()))?;
    Ok(to_hex(&bytes))
}

/// What the database stores for a token. A fast hash suffices: the token has 256 bits of
/// entropy, so there is nothing to brute-force.
pub fn token_hash(token: &str) -> String {
    to_hex(&Sha256::digest(token.as_bytes()))
}

/// An argon2id PHC string for `password`, with a random salt.
pub fn hash_password(password: &str) -> Result<String, CredentialError> {
    let mut salt = [0_u8; 16];
    getrandom::fill(&mut salt).map_err(|error| CredentialError::Random(error.to_string()))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|error| CredentialError::Hash(error.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| CredentialError::Hash(error.to_string()))
}

/// Whether `password` matches the stored PHC string; a malformed stored hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut text, byte| {
            let _ = write!(text, "{byte:02x}");
            text
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let first = new_token().expect("token");
        let second = new_token().expect("token");
        assert_eq!(first.len(), 64, "32 bytes, hex encoded");
        assert_ne!(first, second, "two tokens never repeat");
        assert_ne!(
            token_hash(&first),
            first,
            "the stored form is not the token"
        );
        assert_eq!(token_hash(&first), token_hash(&first));
    }

    #[test]
    fn passwords_verify_only_with_the_right_password() {
        let stored = hash_password("switchboard").expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify_password("switchboard", &stored));
        assert!(!verify_password("switchboarD", &stored));
        assert!(!verify_password("switchboard", "not a hash"));
    }
}
