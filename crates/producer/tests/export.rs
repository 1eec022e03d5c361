//! `dlq export` output: the input format plus an `error` column, accepted again by the producer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gcbulk_changes::Column;
use gcbulk_producer::export::{ExportEntry, ExportError, ExportWriter, export};
use gcbulk_producer::{EnqueueOptions, Format, InputSource, validate};

fn entries() -> Vec<ExportEntry> {
    [
        (
            r#"{"line":2,"key":"id:6f1c8e2a-4b7d-4c3e-9a5f-0d2b7e8c1a94","new_email":"ana@example.com","title":"Lead, \"EMEA\""}"#,
            "409 general.conflict: version mismatch",
        ),
        (
            r#"{"line":5,"key":"email:bo@example.com","manager":"email:boss@example.com","acd_auto_answer":true}"#,
            "404 not.found: user not found\nafter 3 attempts",
        ),
    ]
    .into_iter()
    .map(|(item, error)| ExportEntry::from_item_json(item, error).unwrap())
    .collect()
}

#[test]
fn csv_export_has_the_used_columns_and_an_error_column() {
    let csv = String::from_utf8(export(&entries(), Format::Csv, Vec::new()).unwrap()).unwrap();
    assert_eq!(
        csv,
        "id,email,title,new_email,email_manager,acd_auto_answer,error\n\
         6f1c8e2a-4b7d-4c3e-9a5f-0d2b7e8c1a94,,\"Lead, \"\"EMEA\"\"\",ana@example.com,,,409 general.conflict: version mismatch\n\
         ,bo@example.com,,,boss@example.com,true,\"404 not.found: user not found\nafter 3 attempts\"\n"
    );
    let report = validate(
        InputSource::reader("dead.csv", std::io::Cursor::new(csv.into_bytes())),
        &EnqueueOptions::default(),
    )
    .unwrap();
    assert_eq!((report.items, report.format), (2, Format::Csv));
}

#[test]
fn jsonl_export_has_one_object_per_row_with_an_error_key() {
    let jsonl = String::from_utf8(export(&entries(), Format::Jsonl, Vec::new()).unwrap()).unwrap();
    assert_eq!(
        jsonl,
        concat!(
            r#"{"id":"6f1c8e2a-4b7d-4c3e-9a5f-0d2b7e8c1a94","title":"Lead, \"EMEA\"","new_email":"ana@example.com","error":"409 general.conflict: version mismatch"}"#,
            "\n",
            r#"{"email":"bo@example.com","email_manager":"boss@example.com","acd_auto_answer":"true","error":"404 not.found: user not found\nafter 3 attempts"}"#,
            "\n"
        )
    );
    let report = validate(
        InputSource::reader("dead", std::io::Cursor::new(jsonl.into_bytes())),
        &EnqueueOptions::default(),
    )
    .unwrap();
    assert_eq!((report.items, report.format), (2, Format::Jsonl));
}

#[test]
fn export_errors_say_what_is_wrong() {
    let err =
        ExportEntry::from_item_json(r#"{"line":2,"key":"id:x","skills":"A:1"}"#, "e").unwrap_err();
    assert!(matches!(err, ExportError::BadItem(_)));
    assert!(err.to_string().contains("unknown field `skills`"), "{err}");

    let mut writer = ExportWriter::new(Format::Csv, Vec::new(), &[Column::Email]).unwrap();
    let entry = &entries()[0];
    let err = writer.write(&entry.change, &entry.error).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2 uses column id, which the CSV export was not given"
    );
}
