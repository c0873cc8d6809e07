//! The quoting rules of an import, byte by byte: the `csv` crate's rules (a quote opens a
//! quoted value only at the start of a field; `""` or the escape character puts a quote inside
//! it; a quote in an unquoted value is kept as it is), so that files read as they always did.
//! Lines are scanned one at a time to know whether a line break ends the record or falls
//! inside a quoted value; a record's text, once its lines are known, is split into its fields.

/// The quote character: always `"`.
const QUOTE: u8 = b'"';

/// The delimiter and the escape of an import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialect {
    /// The field separator.
    pub delimiter: u8,
    /// The character escaping a quote inside a quoted value; `None`: a quote is written `""`.
    pub escape: Option<u8>,
}

/// Where the parser stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// At the start of a field.
    FieldStart,
    /// Inside an unquoted value.
    Unquoted,
    /// Inside a quoted value.
    Quoted,
    /// Right after the escape character, inside a quoted value.
    Escaped,
    /// Right after a quote inside a quoted value: its end, or the first half of `""`.
    QuoteSeen,
}

/// What a byte does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// Part of the value.
    Keep,
    /// Syntax only (a quote, the escape character).
    Skip,
    /// The delimiter: the field ends.
    EndField,
    /// A closed quoted value goes on with more text (`"ab"c`): kept, as the `csv` crate does,
    /// but a sign of broken quoting.
    KeepAfterQuote,
}

/// What a line does to its record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineScan {
    /// The line ends inside a quoted value: its line break belongs to the value and the record
    /// goes on with the next line.
    pub open: bool,
    /// Delimiters outside quoted values (fields ended on this line, the last one aside).
    pub delimiters: usize,
    /// A quoted value closes and goes on with more text (`"ab"c`) somewhere on the line.
    pub sloppy: bool,
}

impl Dialect {
    /// The transition of `state` on `byte`.
    fn step(&self, state: State, byte: u8) -> (State, Action) {
        match state {
            State::FieldStart if byte == QUOTE => (State::Quoted, Action::Skip),
            State::FieldStart | State::Unquoted if byte == self.delimiter => {
                (State::FieldStart, Action::EndField)
            }
            State::FieldStart | State::Unquoted => (State::Unquoted, Action::Keep),
            State::Quoted if byte == QUOTE => (State::QuoteSeen, Action::Skip),
            State::Quoted if self.escape == Some(byte) => (State::Escaped, Action::Skip),
            State::Quoted | State::Escaped => (State::Quoted, Action::Keep),
            State::QuoteSeen if byte == QUOTE && self.escape.is_none() => (State::Quoted, Action::Keep),
            State::QuoteSeen if byte == self.delimiter => (State::FieldStart, Action::EndField),
            State::QuoteSeen => (State::Unquoted, Action::KeepAfterQuote),
        }
    }

    /// Scans one line (without its line break), from the start of a record or, when `inside`,
    /// from inside a quoted value opened on an earlier line.
    pub fn scan(&self, line: &[u8], inside: bool) -> LineScan {
        let mut state = if inside { State::Quoted } else { State::FieldStart };
        let mut scan = LineScan::default();
        for &byte in line {
            let (next, action) = self.step(state, byte);
            match action {
                Action::EndField => scan.delimiters += 1,
                Action::KeepAfterQuote => scan.sloppy = true,
                Action::Keep | Action::Skip => {}
            }
            state = next;
        }
        scan.open = matches!(state, State::Quoted | State::Escaped);
        scan
    }

    /// Splits the text of a whole record (its lines joined with their line breaks, which then
    /// only fall inside quoted values) into its fields.
    pub fn fields(&self, record: &[u8]) -> Vec<Vec<u8>> {
        let mut fields = Vec::new();
        let mut field = Vec::new();
        let mut state = State::FieldStart;
        for &byte in record {
            let (next, action) = self.step(state, byte);
            match action {
                Action::Keep | Action::KeepAfterQuote => field.push(byte),
                Action::EndField => fields.push(std::mem::take(&mut field)),
                Action::Skip => {}
            }
            state = next;
        }
        fields.push(field);
        fields
    }
}
