//! Unit tests of the CSV import: options, header, typing by schema, reading (encodings,
//! quoting, the channel-fed reader), records from lines, JSON and NDJSON rows, the limits, and
//! property tests.

mod json;
mod limits;
mod props;
mod reader;
mod records;
mod typing;

use super::header::Header;

/// A header of these column names.
fn header(names: &[&str]) -> Header {
    Header::parse(names.iter().copied()).expect("valid header")
}

mod options {
    use crate::users::import::options::{Encoding, ImportOptions};
    use crate::users::import::ImportError;

    fn refused(result: Result<bool, ImportError>) -> String {
        match result {
            Err(ImportError::BadRequest(message)) => message,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn the_options_default_to_comma_double_quote_and_utf8() {
        let options = ImportOptions::default();
        assert_eq!((options.delimiter, options.escape), (b',', b'"'));
        assert_eq!(options.encoding, Encoding::Utf8);
    }

    #[test]
    fn each_option_is_read_from_its_form_field() {
        let mut options = ImportOptions::default();
        assert!(options.set("delimiter", ";").unwrap());
        assert!(options.set("escape", "\\").unwrap());
        assert!(options.set("encoding", "LATIN1").unwrap());
        assert!(!options.set("other", "x").unwrap());
        assert_eq!((options.delimiter, options.escape), (b';', b'\\'));
        assert_eq!(options.encoding, Encoding::Latin1);
        options.set("delimiter", "\\t").unwrap();
        assert_eq!(options.delimiter, b'\t');
        options.set("encoding", "utf16le").unwrap();
        assert_eq!(options.encoding, Encoding::Utf16Le);
        options.set("encoding", "ucs2").unwrap();
        assert_eq!(options.encoding, Encoding::Utf16Le);
        options.set("encoding", "ASCII").unwrap();
        assert_eq!(options.encoding, Encoding::Ascii);
    }

    #[test]
    fn options_that_cannot_read_a_csv_are_refused() {
        let mut options = ImportOptions::default();
        assert!(refused(options.set("delimiter", ";;")).contains("exactly one ASCII character"));
        assert!(refused(options.set("delimiter", "§")).contains("exactly one ASCII character"));
        assert!(refused(options.set("escape", "\n")).contains("line break"));
        assert_eq!(
            refused(options.set("encoding", "ebcdic")),
            "encoding must be utf8, ucs2, utf16le, latin1 or ascii, not \"ebcdic\""
        );
        options.set("delimiter", "\"").unwrap();
        assert!(options.check().is_err());
        let same = ImportOptions {
            delimiter: b'\\',
            escape: b'\\',
            ..ImportOptions::default()
        };
        assert!(same.check().is_err());
    }

    #[test]
    fn an_empty_delimiter_is_refused_with_the_curl_form_string_advice() {
        let mut options = ImportOptions::default();
        let message = refused(options.set("delimiter", ""));
        assert!(message.starts_with("delimiter is empty"), "{message}");
        assert!(message.contains("--form-string 'delimiter=;'"), "{message}");
        assert!(refused(options.set("escape", "")).starts_with("escape is empty"));
    }

    #[test]
    fn activate_is_read_as_true_or_false_and_defaults_to_false() {
        let mut options = ImportOptions::default();
        assert!(!options.activate);
        assert!(options.set("activate", "TRUE").unwrap());
        assert!(options.activate);
        options.set("activate", "false").unwrap();
        assert!(!options.activate);
        assert_eq!(
            refused(options.set("activate", "yes")),
            "activate must be true or false, not \"yes\""
        );
    }
}
