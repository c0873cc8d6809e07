//! The password policy of the local provider (`PASSWORD_MIN_LENGTH`, `PASSWORD_MAX_LENGTH`,
//! `PASSWORD_MIN_SCORE`): one pure [`check`] that every path setting a password calls (create,
//! register, reset, and the self-service change to come). Strength is zxcvbn's guess estimate,
//! with the user's own email and username as inputs, so `alice@example.com` cannot choose
//! `alice2024!`. Lengths count characters, not bytes; the maximum is checked first, so zxcvbn never
//! sees a long input.

use crate::config::PasswordPolicy;

/// `Ok` when `password` satisfies `policy`; else the message of the 400, saying what to fix (it
/// never contains the password). `user_inputs` are the user's email, username and the like.
pub fn check(policy: &PasswordPolicy, password: &str, user_inputs: &[&str]) -> Result<(), String> {
    check_length(policy, password)?;
    check_strength(policy, password, user_inputs)
}

/// The length bounds alone (what can be judged before the user is known).
pub fn check_length(policy: &PasswordPolicy, password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < policy.min_length {
        return Err(format!(
            "password must be at least {} characters long",
            policy.min_length
        ));
    }
    if length > policy.max_length {
        return Err(format!(
            "password must be at most {} characters long",
            policy.max_length
        ));
    }
    Ok(())
}

/// zxcvbn's score against `policy.min_score`, with advice when it is too low.
fn check_strength(policy: &PasswordPolicy, password: &str, user_inputs: &[&str]) -> Result<(), String> {
    let inputs: Vec<&str> = user_inputs
        .iter()
        .flat_map(|input| split_input(input))
        .filter(|input| !input.is_empty())
        .collect();
    let entropy = zxcvbn::zxcvbn(password, &inputs);
    let score = u8::from(entropy.score());
    if score >= policy.min_score {
        return Ok(());
    }
    let mut message = format!(
        "password is too easy to guess (strength {score} of 4, at least {} required)",
        policy.min_score
    );
    if let Some(feedback) = entropy.feedback() {
        if let Some(warning) = feedback.warning() {
            message.push_str(&format!(": {}", warning.to_string().trim_end_matches('.')));
        }
        let suggestions: Vec<String> = feedback.suggestions().iter().map(ToString::to_string).collect();
        if !suggestions.is_empty() {
            message.push_str(&format!(". {}", suggestions.join(" ")));
        }
    }
    if !message.ends_with('.') {
        message.push('.');
    }
    Err(message)
}

/// An email counts as itself and as its local part (`alice` of `alice@example.com`).
fn split_input(input: &str) -> Vec<&str> {
    match input.split_once('@') {
        Some((local, _)) => vec![input, local],
        None => vec![input],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> PasswordPolicy {
        PasswordPolicy::default()
    }

    #[test]
    fn too_short_and_too_long_passwords_are_refused_with_the_bound() {
        let short = check(&policy(), "Xq7#", &[]).unwrap_err();
        assert_eq!(short, "password must be at least 8 characters long");
        let long = "Xq7#vLp2".repeat(17);
        let error = check(&policy(), &long, &[]).unwrap_err();
        assert_eq!(error, "password must be at most 128 characters long");
        assert!(!error.contains(&long));
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let custom = PasswordPolicy {
            min_score: 0,
            ..policy()
        };
        assert!(check(&custom, "àèìòùàèì", &[]).is_ok());
        assert!(check(&custom, "àèìòùàè", &[]).is_err());
    }

    #[test]
    fn the_most_common_passwords_are_refused_with_advice() {
        let error = check(&policy(), "password", &[]).unwrap_err();
        assert_eq!(
            error,
            "password is too easy to guess (strength 0 of 4, at least 2 required): This is a top-10 \
             common password. Add another word or two. Uncommon words are better."
        );
        for common in ["password", "12345678", "qwertyuiop", "iloveyou", "password1"] {
            let error = check(&policy(), common, &[]).unwrap_err();
            assert!(
                error.starts_with("password is too easy to guess"),
                "{common}: {error}"
            );
            if common != "password" {
                assert!(!error.contains(common), "the message never echoes the password");
            }
        }
    }

    #[test]
    fn the_users_own_name_and_email_count_as_guessable() {
        let password = "alice.liddell1";
        assert!(check(&policy(), password, &[]).is_ok());
        let inputs = ["alice.liddell@example.com", "aliddell"];
        assert!(check(&policy(), password, &inputs).is_err());
    }

    #[test]
    fn strong_passwords_pass() {
        for strong in ["correct-horse-battery", "Tr0ub4dor&3x!", "vP9#mK2$qL"] {
            assert_eq!(
                check(&policy(), strong, &["someone@example.com"]),
                Ok(()),
                "{strong}"
            );
        }
    }

    #[test]
    fn the_minimum_score_is_configurable() {
        let lax = PasswordPolicy {
            min_score: 0,
            ..policy()
        };
        assert!(check(&lax, "password", &[]).is_ok());
        let strict = PasswordPolicy {
            min_score: 4,
            ..policy()
        };
        assert!(check(&strict, "Tr0ub4dor", &[]).is_err());
        assert!(check(&strict, "Tr0ub4dor&3", &[]).is_ok());
    }
}
