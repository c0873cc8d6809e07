//! Encodings: turns the uploaded bytes into UTF-8 for the CSV reader, streaming, with any BOM
//! skipped. UTF-8 passes through untouched (invalid bytes are reported per row by the reader);
//! latin1, ascii (read as latin1) and UTF-16LE are transcoded (invalid sequences become U+FFFD).

use std::io::Read;

use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};

use super::options::Encoding;

/// A reader of `source` that yields UTF-8 without BOM.
///
/// A BOM always wins over the declared encoding: a UTF-16LE file with its BOM reads right even
/// when sent as `utf8`, the way spreadsheet exports are often mislabelled.
pub fn utf8_reader<R: Read>(source: R, encoding: Encoding) -> DecodeReaderBytes<R, Vec<u8>> {
    let mut builder = DecodeReaderBytesBuilder::new();
    builder
        .bom_sniffing(true)
        .bom_override(true)
        .strip_bom(true)
        .utf8_passthru(true);
    match encoding {
        Encoding::Utf8 => builder.encoding(None),
        Encoding::Latin1 | Encoding::Ascii => builder.encoding(Some(encoding_rs::WINDOWS_1252)),
        Encoding::Utf16Le => builder.encoding(Some(encoding_rs::UTF_16LE)),
    };
    builder.build(source)
}
