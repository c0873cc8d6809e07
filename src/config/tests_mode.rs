//! Tests of mode selection, `GROUPS_CONFIG_DIR`, `HTTP_PORT`/`HTTP_HOST`, and of `.env.example`
//! against the variables the configuration reads.

use super::*;

fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_pairs(pairs.iter().copied())
}

fn missing_and_trigger(result: Result<Config, ConfigError>) -> (Vec<&'static str>, String) {
    match result {
        Err(ConfigError::Missing { missing, trigger }) => (missing, trigger),
        other => panic!("expected missing variables, got {other:?}"),
    }
}

const CRUD: [(&str, &str); 3] = [
    ("USERS_CRUD_ENDPOINT", "/users"),
    ("UMS_CONFIG_CRUD_ENDPOINT", "/ums-config"),
    ("AUTH_SERVICE", "auth0-client"),
];

#[test]
fn a_crud_service_and_a_roles_collection_alone_are_refused_naming_the_required_variables() {
    let pairs = [("CRUD_SERVICE", "http://crud"), ("ROLES_CRUD_ENDPOINT", "/roles")];
    let err = config(&pairs).unwrap_err().to_string();
    assert_eq!(
        missing_and_trigger(config(&pairs)),
        (
            vec!["USERS_CRUD_ENDPOINT", "UMS_CONFIG_CRUD_ENDPOINT", "AUTH_SERVICE"],
            "CRUD_SERVICE, ROLES_CRUD_ENDPOINT".to_owned()
        )
    );
    assert_eq!(
        err,
        "USERS_CRUD_ENDPOINT, UMS_CONFIG_CRUD_ENDPOINT, AUTH_SERVICE must be set when \
         CRUD_SERVICE, ROLES_CRUD_ENDPOINT is set (or unset CRUD_SERVICE, ROLES_CRUD_ENDPOINT for embedded mode)"
    );
}

#[test]
fn every_crud_mode_variable_alone_never_falls_back_to_embedded_mode() {
    for var in CRUD_MODE_VARIABLES {
        for value in ["/x", "", " "] {
            let result = config(&[(var, value)]);
            assert!(
                matches!(
                    result,
                    Err(ConfigError::Missing { .. } | ConfigError::Invalid { .. })
                ),
                "{var}={value:?} gave {result:?}"
            );
        }
    }
    let (missing, trigger) = missing_and_trigger(config(&[("JOBS_CRUD_ENDPOINT", "/jobs")]));
    assert_eq!(missing.len(), 3);
    assert_eq!(trigger, "JOBS_CRUD_ENDPOINT");
    let (_, trigger) =
        missing_and_trigger(config(&[("AUTH_CONNECTION", "Username-Password-Authentication")]));
    assert_eq!(trigger, "AUTH_CONNECTION");
}

#[test]
fn a_blank_required_variable_is_refused_as_empty() {
    for (var, value) in [("USERS_CRUD_ENDPOINT", " "), ("USERS_CRUD_ENDPOINT", "")] {
        let err = config(&[(var, value)]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("USERS_CRUD_ENDPOINT: is empty: expected the path of the users collection"),
            "{text}"
        );
        assert!(
            text.contains("CRUD mode is selected because USERS_CRUD_ENDPOINT is set"),
            "{text}"
        );
    }
    let mut pairs = CRUD.to_vec();
    pairs[2] = ("AUTH_SERVICE", "  ");
    let err = config(&pairs).unwrap_err();
    assert!(
        matches!(&err, ConfigError::Invalid { var: "AUTH_SERVICE", problem } if problem.starts_with("is empty")),
        "{err:?}"
    );
    // With the local provider AUTH_SERVICE is not required: empty, it is ignored.
    pairs.push(("AUTH_MODULE", "local"));
    assert!(config(&pairs).is_ok());
}

#[test]
fn a_blank_optional_collection_is_crud_mode_without_that_collection() {
    let mut pairs = CRUD.to_vec();
    pairs.push(("JOBS_CRUD_ENDPOINT", ""));
    let StoreConfig::Crud(crud) = config(&pairs).unwrap().store else {
        panic!("not crud mode")
    };
    assert_eq!(crud.jobs_path, None);
}

#[test]
fn an_explicit_groups_dir_must_be_readable_and_an_empty_one_loads_no_file() {
    let err = config(&[("GROUPS_CONFIG_DIR", "./config/group")]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("GROUPS_CONFIG_DIR: cannot read the directory \"./config/group\""),
        "{text}"
    );
    assert!(text.contains("an empty value loads no group file"), "{text}");

    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/config/groups");
    let found = config(&[("GROUPS_CONFIG_DIR", shipped)]).unwrap();
    assert!(
        matches!(&found.store, StoreConfig::Embedded { groups_dir, .. } if groups_dir.as_os_str() == shipped)
    );

    let none = config(&[("GROUPS_CONFIG_DIR", "")]).unwrap();
    assert!(
        matches!(&none.store, StoreConfig::Embedded { groups_dir, .. } if groups_dir.as_os_str().is_empty())
    );
    assert!(none.warnings.iter().all(|w| !w.contains("GROUPS_CONFIG_DIR")));
}

#[test]
fn the_default_groups_dir_is_found_from_the_repository_root_and_ignored_in_crud_mode() {
    // `cargo test` runs in the repository root, where ./config/groups is.
    let embedded = config(&[]).unwrap();
    assert!(embedded.warnings.iter().all(|w| !w.contains("GROUPS_CONFIG_DIR")));
    let mut pairs = CRUD.to_vec();
    pairs.push(("GROUPS_CONFIG_DIR", "/nonexistent"));
    let crud = config(&pairs).unwrap();
    assert_eq!(
        crud.warnings,
        [
            "GROUPS_CONFIG_DIR is not used in CRUD mode: the groups are the documents of the \
          UMS_CONFIG_CRUD_ENDPOINT collection"
        ]
    );
}

#[test]
fn http_port_out_of_range_says_the_valid_range() {
    let err = config(&[("HTTP_PORT", "70000")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "HTTP_PORT: 70000 is out of range: expected a port from 0 to 65535 (0 picks a free port)"
    );
    assert_eq!(config(&[("HTTP_PORT", "65535")]).unwrap().http_port, 65535);
    assert_eq!(config(&[("HTTP_PORT", "0")]).unwrap().http_port, 0);
    assert_eq!(
        config(&[("HTTP_PORT", "-1")]).unwrap_err().to_string(),
        "HTTP_PORT: \"-1\" is not a valid number"
    );
}

#[test]
fn http_host_accepts_addresses_and_host_names() {
    let host = |v| config(&[("HTTP_HOST", v)]).map(|c| c.http_host);
    assert!(host("localhost").unwrap().is_loopback());
    assert_eq!(host("127.0.0.1").unwrap().to_string(), "127.0.0.1");
    assert_eq!(host("::1").unwrap().to_string(), "::1");
    for bad in ["localhost:80", "http://localhost", "no-such-host.invalid"] {
        assert!(
            matches!(host(bad), Err(ConfigError::Invalid { var: "HTTP_HOST", .. })),
            "{bad}"
        );
    }
}

/// The field names of `RawConfig` as serde sees them: the variables the configuration reads.
fn variables_read() -> Vec<String> {
    use serde::de::{self, Deserializer, Visitor};
    struct Fields(std::cell::RefCell<Vec<&'static str>>);
    impl<'de> Deserializer<'de> for &Fields {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("fields only"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0.borrow_mut().extend_from_slice(fields);
            Err(de::Error::custom("fields only"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let fields = Fields(std::cell::RefCell::new(Vec::new()));
    let _ = <RawConfig as serde::Deserialize>::deserialize(&fields);
    let names = fields.0.borrow().iter().map(|f| f.to_ascii_uppercase()).collect();
    names
}

#[test]
fn env_example_names_every_variable_the_configuration_reads_and_no_other() {
    let example = include_str!("../../.env.example");
    let named: std::collections::BTreeSet<String> = example
        .lines()
        .map(|line| line.trim_start_matches(['#', ' ']))
        .filter_map(|line| line.split_once('='))
        .map(|(name, _)| name.to_owned())
        .filter(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .collect();
    let read = variables_read();
    assert!(read.len() > 60, "{read:?}");
    let absent: Vec<_> = read.iter().filter(|v| !named.contains(*v)).collect();
    assert!(absent.is_empty(), ".env.example does not mention {absent:?}");
    let unknown: Vec<_> = named.iter().filter(|v| !read.contains(v)).collect();
    assert!(
        unknown.is_empty(),
        ".env.example names variables nothing reads: {unknown:?}"
    );
}

#[test]
fn env_example_read_as_an_env_file_selects_embedded_mode() {
    let pairs: Vec<(&str, &str)> = include_str!("../../.env.example")
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .collect();
    assert!(pairs.len() > 30, "{pairs:?}");
    let config = config(&pairs).unwrap();
    assert!(config.is_embedded());
    assert!(matches!(config.auth, AuthConfig::Local { .. }));
}
