//! The options of an import, parsed from the multipart fields sent before the file: how to read
//! it (`delimiter`, `escape`, `encoding`) and whether to activate the users it inserts
//! (`activate`).

use super::ImportError;

/// How the bytes of the file are encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (the default); a UTF-8 BOM is skipped, a UTF-16 BOM switches to UTF-16.
    #[default]
    Utf8,
    /// Latin-1, read as windows-1252 (its superset in practice, as the WHATWG Encoding standard
    /// does): byte `0xE9` is `é`.
    Latin1,
    /// UTF-16 little endian, with or without a BOM (`ucs2` is its Node.js alias).
    Utf16Le,
    /// ASCII, read as windows-1252 as the WHATWG Encoding standard (and so `TextDecoder`) maps
    /// the label `ascii`: a byte over 0x7F is never an error, it reads as its latin1 character,
    /// so that a file labelled ascii but holding one accented name imports that name unchanged.
    Ascii,
}

impl Encoding {
    /// Parses `utf8` (`utf-8`), `latin1` (`iso-8859-1`), `utf16le` (`utf-16le`, `ucs2`,
    /// `ucs-2`) or `ascii` (`us-ascii`), any case.
    pub fn parse(text: &str) -> Result<Self, ImportError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "utf8" | "utf-8" => Ok(Self::Utf8),
            "latin1" | "latin-1" | "iso-8859-1" => Ok(Self::Latin1),
            "utf16le" | "utf-16le" | "ucs2" | "ucs-2" => Ok(Self::Utf16Le),
            "ascii" | "us-ascii" => Ok(Self::Ascii),
            other => Err(ImportError::BadRequest(format!(
                "encoding must be utf8, ucs2, utf16le, latin1 or ascii, not \"{}\"",
                other.chars().take(40).collect::<String>()
            ))),
        }
    }
}

/// How to read the CSV file, and what to do after the import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// The field separator (default `,`).
    pub delimiter: u8,
    /// The character that escapes a `"` inside a quoted field (default `"`: a quote is written
    /// twice, `""`). With `\`, a quote inside a quoted field is written `\"`.
    pub escape: u8,
    /// The encoding of the file (default UTF-8).
    pub encoding: Encoding,
    /// `activate`: once the import is written, start a bulk activation (the job of
    /// `POST /jobs/bulk-activation`) of the users it inserted (default false). The readers
    /// ignore it.
    pub activate: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            delimiter: b',',
            escape: b'"',
            encoding: Encoding::Utf8,
            activate: false,
        }
    }
}

/// The names of the option fields of the multipart form.
pub const OPTION_FIELDS: [&str; 4] = ["activate", "delimiter", "encoding", "escape"];

impl ImportOptions {
    /// Sets the option `name` (one of [`OPTION_FIELDS`]) from its form value; `Ok(false)` when
    /// `name` is not an option.
    pub fn set(&mut self, name: &str, value: &str) -> Result<bool, ImportError> {
        match name {
            "delimiter" => self.delimiter = one_byte(name, value)?,
            "escape" => self.escape = one_byte(name, value)?,
            "encoding" => self.encoding = Encoding::parse(value)?,
            "activate" => self.activate = flag(name, value)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Checks that the options can read a CSV: the delimiter is not the quote or the escape.
    pub fn check(&self) -> Result<(), ImportError> {
        if self.delimiter == b'"' {
            return Err(ImportError::BadRequest(
                "delimiter cannot be \" (the quote character)".to_owned(),
            ));
        }
        if self.delimiter == self.escape {
            return Err(ImportError::BadRequest(
                "delimiter and escape must be different characters".to_owned(),
            ));
        }
        Ok(())
    }
}

/// `true` or `false`, any case.
fn flag(name: &str, value: &str) -> Result<bool, ImportError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ImportError::BadRequest(format!(
            "{name} must be true or false, not \"{}\"",
            value.chars().take(20).collect::<String>()
        ))),
    }
}

/// One ASCII character (`\t` may be written as the two characters `\t`); no line breaks.
fn one_byte(name: &str, value: &str) -> Result<u8, ImportError> {
    let value = if value == "\\t" { "\t" } else { value };
    match value.as_bytes() {
        // `curl -F 'delimiter=;'` sends an empty value: curl reads `;` as the start of a part
        // attribute (`;type=`), so the character never reaches the form.
        [] => Err(ImportError::BadRequest(format!(
            "{name} is empty: send exactly one character (with curl, -F '{name}=;' sends an empty \
             value because curl reads ; as the start of a part attribute: use --form-string '{name}=;')"
        ))),
        [b'\r' | b'\n'] => Err(ImportError::BadRequest(format!("{name} cannot be a line break"))),
        [byte] if byte.is_ascii() => Ok(*byte),
        _ => Err(ImportError::BadRequest(format!(
            "{name} must be exactly one ASCII character, not \"{}\"",
            value.chars().take(20).collect::<String>()
        ))),
    }
}
