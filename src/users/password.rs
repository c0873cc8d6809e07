//! Random passwords from the OS CSPRNG, with at least one upper, lower, digit and symbol.

use rand::rngs::OsRng;
use rand::seq::SliceRandom;
use rand::Rng;

use crate::secret::Secret;

const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"!@#$%^&*-_=+?";

/// A random password of `length` characters (at least 4).
pub fn random_password(length: usize) -> Secret {
    let mut rng = OsRng;
    let classes = [UPPER, LOWER, DIGITS, SYMBOLS];
    let all: Vec<u8> = classes.concat();
    let mut chars: Vec<u8> = classes
        .iter()
        .map(|class| class[rng.gen_range(0..class.len())])
        .collect();
    while chars.len() < length.max(4) {
        chars.push(all[rng.gen_range(0..all.len())]);
    }
    chars.shuffle(&mut rng);
    Secret::new(String::from_utf8_lossy(&chars).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_have_the_length_and_every_class() {
        for length in [4, 8, 32] {
            let password = random_password(length);
            let p = password.expose();
            assert_eq!(p.len(), length);
            assert!(p.bytes().any(|b| UPPER.contains(&b)));
            assert!(p.bytes().any(|b| LOWER.contains(&b)));
            assert!(p.bytes().any(|b| DIGITS.contains(&b)));
            assert!(p.bytes().any(|b| SYMBOLS.contains(&b)));
        }
        assert_ne!(random_password(16).expose(), random_password(16).expose());
    }
}
