//! Every validation rule, with the exact `FILE:LINE: column C: reason` text a user sees.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use gcbulk_producer::{
    EnqueueOptions, ErrorKind, Format, InputSource, MAX_LISTED_ERRORS, ProducerError,
    ValidationReport, validate,
};

const UUID: &str = "6f1c8e2a-4b7d-4c3e-9a5f-0d2b7e8c1a94";
const UUID2: &str = "0b3f2c1d-9e8a-4f7b-8c6d-5a4b3c2d1e0f";

fn run(name: &str, text: &str, format: Option<Format>) -> Result<ValidationReport, ProducerError> {
    let options = EnqueueOptions {
        format,
        ..EnqueueOptions::default()
    };
    validate(
        InputSource::reader(name, std::io::Cursor::new(text.as_bytes().to_vec())),
        &options,
    )
}

fn valid(text: &str) -> ValidationReport {
    run("in.csv", text, None).unwrap_or_else(|e| panic!("expected valid input, got:\n{e}"))
}

/// The listed errors of an invalid CSV input named `f.csv`.
fn csv_errors(text: &str) -> Vec<String> {
    errors_of(run("f.csv", text, Some(Format::Csv)))
}

fn jsonl_errors(text: &str) -> Vec<String> {
    errors_of(run("f.jsonl", text, Some(Format::Jsonl)))
}

fn errors_of(result: Result<ValidationReport, ProducerError>) -> Vec<String> {
    match result {
        Err(ProducerError::Invalid(invalid)) => {
            invalid.errors().iter().map(ToString::to_string).collect()
        }
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[track_caller]
fn one_error(text: &str, expected: &str) {
    assert_eq!(csv_errors(text), [expected], "input:\n{text}");
}

#[test]
fn a_valid_file_reports_items_and_chunks() {
    let mut text = String::from("email,title,state,acd_auto_answer\n");
    for i in 0..120 {
        text.push_str(&format!("u{i}@example.com,Agent,Active,yes\n"));
    }
    let report = valid(&text);
    assert_eq!(report.format, Format::Csv);
    assert_eq!(
        (report.items, report.chunks, report.items_without_changes),
        (120, 3, 0)
    );
    assert_eq!(report.source, "in.csv");
}

#[test]
fn each_key_kind_and_the_email_column_as_new_value() {
    let text = format!(
        "id,external_id,email,new_email\n\
         {UUID},,new1@example.com,\n\
         ,HR-7,new2@example.com,\n\
         ,,old@example.com,new3@example.com\n\
         {UUID2},,,new4@example.com\n"
    );
    assert_eq!(valid(&text).items, 4);
}

#[test]
fn id_rules() {
    one_error(
        "id,name\n123,Ana\n",
        r#"f.csv:2: column id: "123" is not a Genesys user id (expected a UUID like 6f1c8e2a-4b7d-4c3e-9a5f-0d2b7e8c1a94)"#,
    );
    one_error(
        "id,name\nana@example.com,Ana\n",
        r#"f.csv:2: column id: "ana@example.com" is not a Genesys user id but looks like an email; put it in column email"#,
    );
    // Ids are checked for shape only, in any case.
    valid(&format!("id\n{}\n", UUID.to_uppercase()));
}

#[test]
fn email_rules() {
    one_error(
        "email,name\nana.example.com,Ana\n",
        r#"f.csv:2: column email: "ana.example.com" is not an email address"#,
    );
    one_error(
        &format!("id,email\n{UUID},not-an-email\n"),
        r#"f.csv:2: column email: "not-an-email" is not an email address"#,
    );
    one_error(
        "email,new_email\na@example.com,b@example\n",
        r#"f.csv:2: column new_email: "b@example" is not an email address"#,
    );
    one_error(
        &format!("id,email,new_email\n{UUID},a@example.com,b@example.com\n"),
        "f.csv:2: column new_email: conflicts with column email, which sets a new email when the key is id; keep one",
    );
}

#[test]
fn phone_and_extension_rules() {
    valid(
        "email,phone_work,extension\na@example.com,+1 (555) 010-0199,4021\nb@example.com,0044 20 7946 0958,\n",
    );
    one_error(
        "email,phone_work\na@example.com,555-CALL\n",
        r#"f.csv:2: column phone_work: "555-CALL" is not a phone number (use digits, spaces, dashes, dots, parentheses and an optional leading +; 3 to 20 digits)"#,
    );
    one_error(
        "email,extension\na@example.com,12a\n",
        r#"f.csv:2: column extension: "12a" is not an extension (1 to 15 digits)"#,
    );
}

#[test]
fn manager_rules() {
    valid(&format!("email,manager\na@example.com,{UUID}\n"));
    valid("email,email_manager\na@example.com,boss@example.com\n");
    one_error(
        "email,manager\na@example.com,boss@example.com\n",
        r#"f.csv:2: column manager: "boss@example.com" is not a Genesys user id but looks like an email; put it in column email_manager"#,
    );
    one_error(
        "email,email_manager\na@example.com,boss\n",
        r#"f.csv:2: column email_manager: "boss" is not an email address"#,
    );
    one_error(
        &format!("email,manager,email_manager\na@example.com,{UUID},boss@example.com\n"),
        "f.csv:2: column email_manager: conflicts with column manager; set the manager by id or by email, not both",
    );
}

#[test]
fn state_and_acd_auto_answer_rules() {
    valid(
        "email,state,acd_auto_answer\na@example.com,INACTIVE,False\nb@example.com,active,1\nc@example.com,,No\n",
    );
    one_error(
        "email,state\na@example.com,retired\n",
        r#"f.csv:2: column state: "retired" is not a state (expected active or inactive)"#,
    );
    one_error(
        "email,state\na@example.com,deleted\n",
        "f.csv:2: column state: deleting users is not supported (expected active or inactive)",
    );
    one_error(
        "email,acd_auto_answer\na@example.com,maybe\n",
        r#"f.csv:2: column acd_auto_answer: "maybe" is not a boolean (expected true or false; yes/no and 1/0 also work)"#,
    );
}

#[test]
fn key_rules() {
    one_error(
        "email,name\n,Ana\n",
        "f.csv:2: no key: set one of id, external_id, email",
    );
    assert_eq!(
        csv_errors("name,title\nAna,Lead\nBo,Dev\n"),
        ["f.csv:1: no key column: the header needs id, external_id or email"]
    );
}

#[test]
fn a_row_that_changes_nothing_is_accepted_and_counted() {
    let report = valid("email,title\na@example.com,\nb@example.com,Lead\n");
    assert_eq!((report.items, report.items_without_changes), (2, 1));
}

#[test]
fn empty_cells_and_blank_rows_change_nothing() {
    // Surrounding spaces are trimmed; rows of empty cells are skipped like blank lines.
    let report = valid("email , title\n  a@example.com , \n,\n\n\"\",\"\"\nb@example.com,Lead\n");
    assert_eq!(report.items, 2);
}

#[test]
fn column_rules() {
    assert_eq!(
        csv_errors("email,nickname,name\na@example.com,Nan,Ana\n"),
        [
            "f.csv:1: column nickname: unknown column (known columns: id, external_id, email, name, title, department, new_email, phone_work, extension, manager, email_manager, state, acd_auto_answer, phone_number, skills, languages, queues, roles_divisions, division, location_work, error)"
        ]
    );
    assert_eq!(
        csv_errors("email,name,Name\na@example.com,A,B\n"),
        ["f.csv:1: column Name: appears more than once in the header"]
    );
    assert_eq!(
        csv_errors("email,phone_work,phone_number\na@example.com,555 0100,555 0101\n"),
        ["f.csv:1: column phone_number: same column as phone_work; keep one"]
    );
    // A column without a name is fine while empty.
    valid("email,,title\na@example.com,,Lead\n");
    one_error(
        "email,,title\na@example.com,x,Lead\n",
        "f.csv:2: column #2: has a value but no name in the header; name the column or empty it",
    );
}

#[test]
fn aliases_and_header_case() {
    let report = valid("\"EMAIL\", Phone_Number ,Title\na@example.com,555 0100,Lead\n");
    assert_eq!(report.items, 1);
    one_error(
        "email,phone_number\na@example.com,x\n",
        r#"f.csv:2: column phone_number: "x" is not a phone number (use digits, spaces, dashes, dots, parentheses and an optional leading +; 3 to 20 digits)"#,
    );
}

#[test]
fn not_yet_supported_columns() {
    one_error(
        "email,skills\na@example.com,Billing:3\n",
        "f.csv:2: column skills: not supported yet by this version of gcbulk; remove the column or leave it empty",
    );
    for column in [
        "languages",
        "queues",
        "roles_divisions",
        "division",
        "location_work",
    ] {
        let text = format!("email,{column}\na@example.com,\"x\"\n");
        assert_eq!(
            csv_errors(&text),
            [format!(
                "f.csv:2: column {column}: not supported yet by this version of gcbulk; remove the column or leave it empty"
            )]
        );
    }
}

#[test]
fn the_genesys_admin_import_format_is_accepted_as_it_is() {
    let text = "\u{feff}name,email,phone_work,extension,title,department,email_manager,location_work,roles_divisions,queues,division,skills\r\n\
        Ana Núñez,ana@example.com,+1 555 0100,,Team Lead,Support,boss@example.com,,,,,\r\n\
        \"Gómez, Bo\",bo@example.com,,4021,Agent,Support,,,,,,\r\n";
    let report = valid(text);
    assert_eq!((report.items, report.format), (2, Format::Csv));
}

#[test]
fn a_bom_does_not_hide_the_first_column() {
    let report = valid("\u{feff}email,title\na@example.com,Lead\n");
    assert_eq!(report.items, 1);
    // Without BOM handling the first column would be unknown.
    one_error(
        "\u{feff}email,title\nnot-an-email,Lead\n",
        r#"f.csv:2: column email: "not-an-email" is not an email address"#,
    );
}

#[test]
fn a_record_spanning_lines_is_reported_at_its_first_line_and_later_lines_stay_physical() {
    let text = "email,title,state\n\
        a@example.com,\"Lead,\nSupport\nEMEA\",sleeping\n\
        b@example.com,Agent,dozing\n";
    assert_eq!(
        csv_errors(text),
        [
            r#"f.csv:2: column state: "sleeping" is not a state (expected active or inactive)"#,
            r#"f.csv:5: column state: "dozing" is not a state (expected active or inactive)"#,
        ]
    );
}

#[test]
fn blank_lines_do_not_shift_line_numbers() {
    let text = "email,state\n\na@example.com,x\n\n\nb@example.com,y\n";
    assert_eq!(
        csv_errors(text),
        [
            r#"f.csv:3: column state: "x" is not a state (expected active or inactive)"#,
            r#"f.csv:6: column state: "y" is not a state (expected active or inactive)"#,
        ]
    );
}

#[test]
fn cell_count_mismatch() {
    assert_eq!(
        csv_errors("email,title\na@example.com,Lead,extra\nb@example.com\n"),
        [
            "f.csv:2: the row has 3 cells but the header has 2 columns",
            "f.csv:3: the row has 1 cell but the header has 2 columns",
        ]
    );
}

#[test]
fn invalid_utf8_is_reported_at_its_cell() {
    let mut bytes = b"email,title\na@example.com,Caf".to_vec();
    bytes.extend_from_slice(&[0xE9, b'\n']); // Latin-1 é
    let result = validate(
        InputSource::reader("f.csv", std::io::Cursor::new(bytes)),
        &EnqueueOptions::default(),
    );
    assert_eq!(
        errors_of(result),
        ["f.csv:2: column title: not valid UTF-8; save the file as UTF-8"]
    );
}

#[test]
fn empty_inputs() {
    assert_eq!(
        csv_errors(""),
        ["f.csv:1: the file is empty; expected a header row"]
    );
    assert_eq!(
        csv_errors("email,title\n"),
        ["f.csv:1: no rows: nothing to enqueue"]
    );
    assert_eq!(
        jsonl_errors("\n\n"),
        ["f.jsonl:1: no rows: nothing to enqueue"]
    );
}

#[test]
fn duplicate_keys_name_both_lines() {
    let text = format!(
        "id,email,name\n\
         ,Ana@Example.com,A\n\
         {UUID},,B\n\
         ,b@example.com,C\n\
         ,ana@example.COM,D\n\
         {},,E\n\
         ,ana@example.com,F\n",
        UUID.to_uppercase()
    );
    assert_eq!(
        csv_errors(&text),
        [
            "f.csv:5: column email: duplicate key email:ana@example.COM: line 2 changes the same user; a user may appear only once per file",
            &format!(
                "f.csv:6: column id: duplicate key id:{}: line 3 changes the same user; a user may appear only once per file",
                UUID.to_uppercase()
            ),
            "f.csv:7: column email: duplicate key email:ana@example.com: line 2 changes the same user; a user may appear only once per file",
        ]
    );
    // External ids are case-sensitive.
    valid("external_id\nHR-1\nhr-1\n");
}

#[test]
fn duplicates_are_found_among_otherwise_invalid_rows_too() {
    assert_eq!(
        csv_errors("email,state\na@example.com,x\na@example.com,active\n"),
        [
            r#"f.csv:2: column state: "x" is not a state (expected active or inactive)"#,
            "f.csv:3: column email: duplicate key email:a@example.com: line 2 changes the same user; a user may appear only once per file",
        ]
    );
}

#[test]
fn every_error_is_listed_up_to_the_cap() {
    let mut text = String::from("email,state\n");
    for i in 0..MAX_LISTED_ERRORS + 250 {
        text.push_str(&format!("u{i}@example.com,bad\n"));
    }
    let Err(ProducerError::Invalid(invalid)) = run("f.csv", &text, None) else {
        panic!("expected invalid input")
    };
    assert_eq!(invalid.errors().len(), MAX_LISTED_ERRORS);
    assert_eq!(invalid.omitted(), 250);
    let shown = invalid.to_string();
    assert!(
        shown.contains(
            "\n… and 250 more errors\nf.csv: 1250 errors in the input; nothing was enqueued"
        ),
        "{shown}"
    );
    assert!(shown.starts_with("f.csv:2: column state: "), "{shown}");
}

#[test]
fn an_unclosed_quote_cannot_swallow_memory() {
    let mut text = String::from("email,title\na@example.com,\"never closed\n");
    let filler = "x".repeat(1023) + "\n";
    for _ in 0..(2 * 1024) {
        text.push_str(&filler);
    }
    assert_eq!(
        csv_errors(&text),
        [
            "f.csv:2: a record starting here is longer than 1 MiB (an unclosed quote?); reading stopped here"
        ]
    );
}

#[test]
fn json_lines_rows() {
    let text = format!(
        "{{\"email\":\"a@example.com\",\"acd_auto_answer\":true,\"extension\":4021,\"state\":null}}\n\
         \n\
         \u{20}{{\"id\":\"{UUID}\",\"email\":\"new@example.com\",\"phone_number\":\"+1 555 0100\",\"skills\":\"\"}}\r\n\
         {{\"external_id\":12345,\"acd_auto_answer\":0,\"error\":\"404 not.found\"}}\n"
    );
    let report = run("in.jsonl", &text, None).unwrap();
    assert_eq!((report.format, report.items), (Format::Jsonl, 3));
}

#[test]
fn json_lines_errors_carry_physical_lines() {
    let text = "{\"email\":\"a@example.com\"}\n\
        \n\
        {\"email\":\"b@example.com\",\"name\":42}\n\
        {\"email\": \"c@example.com\"\n\
        [1,2]\n\
        {\"email\":\"d@example.com\",\"nick\":\"D\",\"state\":\"on\"}\n\
        {\"email\":\"e@example.com\",\"title\":\"A\",\"title\":\"B\"}\n\
        {\"email\":\"f@example.com\",\"queues\":\"Q1\",\"phone_work\":[\"1\"]}\n\
        {\"email\":\"a@example.com\"}\n";
    assert_eq!(
        jsonl_errors(text),
        [
            "f.jsonl:3: column name: expected a string, got a number",
            "f.jsonl:4: not valid JSON: EOF while parsing an object (column 25)",
            "f.jsonl:5: expected a JSON object (one per line)",
            "f.jsonl:6: column nick: unknown column (known columns: id, external_id, email, name, title, department, new_email, phone_work, extension, manager, email_manager, state, acd_auto_answer, phone_number, skills, languages, queues, roles_divisions, division, location_work, error)",
            r#"f.jsonl:6: column state: "on" is not a state (expected active or inactive)"#,
            "f.jsonl:7: column title: appears more than once in the object",
            "f.jsonl:8: column queues: not supported yet by this version of gcbulk; remove the column or leave it empty",
            "f.jsonl:8: column phone_work: expected a string, got an array",
            "f.jsonl:9: column email: duplicate key email:a@example.com: line 1 changes the same user; a user may appear only once per file",
        ]
    );
}

#[test]
fn json_lines_with_a_bom_and_invalid_utf8() {
    let report = run("in.jsonl", "\u{feff}{\"email\":\"a@example.com\"}\n", None).unwrap();
    assert_eq!(report.items, 1);
    let mut bytes = b"{\"email\":\"a@example.com\",\"name\":\"Caf".to_vec();
    bytes.extend_from_slice(&[0xE9, b'"', b'}', b'\n']);
    let result = validate(
        InputSource::reader("f.jsonl", std::io::Cursor::new(bytes)),
        &EnqueueOptions::default(),
    );
    assert_eq!(
        errors_of(result),
        ["f.jsonl:1: not valid UTF-8; save the file as UTF-8"]
    );
}

#[test]
fn format_comes_from_the_flag_the_extension_or_the_first_byte() {
    let jsonl = "{\"email\":\"a@example.com\"}\n";
    // Sniffed from a stream with no format given (the stream's name has no extension).
    assert_eq!(run("<stdin>", jsonl, None).unwrap().format, Format::Jsonl);
    assert_eq!(
        run("<stdin>", "email\na@example.com\n", None)
            .unwrap()
            .format,
        Format::Csv
    );
    // A JSON array is refused with a hint.
    assert_eq!(
        errors_of(run("<stdin>", "[{\"email\":\"a@example.com\"}]", None)),
        [
            "<stdin>:1: this is a JSON array; gcbulk reads JSON Lines, one object per line (convert with: jq -c '.[]')"
        ]
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.NDJSON");
    std::fs::write(&path, jsonl).unwrap();
    let report = validate(InputSource::Path(path.clone()), &EnqueueOptions::default()).unwrap();
    assert_eq!(
        (report.format, report.source),
        (Format::Jsonl, path.display().to_string())
    );
    // --format wins over the extension.
    let forced = EnqueueOptions {
        format: Some(Format::Csv),
        ..EnqueueOptions::default()
    };
    let err = validate(InputSource::Path(path.clone()), &forced).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // An unknown extension is sniffed.
    let txt = dir.path().join("users.txt");
    std::fs::write(&txt, jsonl).unwrap();
    assert_eq!(
        validate(InputSource::Path(txt), &EnqueueOptions::default())
            .unwrap()
            .format,
        Format::Jsonl
    );
}

#[test]
fn files_are_named_by_their_path_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    let mut file = std::fs::File::create(&path).unwrap();
    writeln!(file, "email,state\na@example.com,x").unwrap();
    drop(file);
    let errors = errors_of(validate(
        InputSource::Path(path.clone()),
        &EnqueueOptions::default(),
    ));
    assert_eq!(
        errors,
        [format!(
            r#"{}:2: column state: "x" is not a state (expected active or inactive)"#,
            path.display()
        )]
    );
}

#[test]
fn stdin_like_streams_are_spooled_so_duplicates_can_be_located() {
    // Finding the lines of a duplicate needs a second read, which a stream can only get
    // from its spool.
    let mut text = String::from("email\n");
    for i in 0..50_000 {
        text.push_str(&format!("u{i}@example.com\n"));
    }
    text.push_str("u17@example.com\n");
    assert_eq!(
        errors_of(run("<stdin>", &text, None)),
        [
            "<stdin>:50002: column email: duplicate key email:u17@example.com: line 19 changes the same user; a user may appear only once per file"
        ]
    );
}

#[test]
fn export_error_column_is_ignored_on_input() {
    valid("email,title,error\na@example.com,Lead,\"404 not.found: user not found\"\n");
}

#[test]
fn option_and_io_errors_have_their_kinds() {
    let bad_chunk = EnqueueOptions {
        chunk_size: 0,
        ..EnqueueOptions::default()
    };
    let err = validate(
        InputSource::reader("x", &b"email\na@b.co\n"[..]),
        &bad_chunk,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert_eq!(err.to_string(), "invalid chunk size 0: use 1 to 1000");

    let bad_id = EnqueueOptions {
        batch_id: Some("has space".into()),
        ..EnqueueOptions::default()
    };
    let err = validate(InputSource::reader("x", &b"email\na@b.co\n"[..]), &bad_id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);

    let err = validate(
        InputSource::from_arg("/nonexistent/users.csv"),
        &EnqueueOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(
        err.to_string()
            .starts_with("cannot read /nonexistent/users.csv: "),
        "{err}"
    );
}

#[test]
fn line_numbers_with_crlf_and_cr_endings() {
    let state = |line: u64, value: &str| {
        format!(
            "f.csv:{line}: column state: {value:?} is not a state (expected active or inactive)"
        )
    };
    let crlf = "email,state\r\n\r\na@example.com,x\r\nb@example.com,\"multi\r\nline\"\r\n\r\nc@example.com,y\r\n";
    assert_eq!(
        csv_errors(crlf),
        [state(3, "x"), state(4, "multi\r\nline"), state(7, "y")]
    );
    let cr = "email,state\ra@example.com,x\r\rb@example.com,y\r";
    assert_eq!(csv_errors(cr), [state(2, "x"), state(4, "y")]);
}

#[test]
fn a_file_repeated_twice_lists_the_first_duplicates_and_counts_the_rest() {
    let mut text = String::from("email\n");
    for _ in 0..2 {
        for i in 0..1500 {
            text.push_str(&format!("u{i}@example.com\n"));
        }
    }
    let Err(ProducerError::Invalid(invalid)) = run("f.csv", &text, None) else {
        panic!("expected invalid input")
    };
    assert_eq!(
        (invalid.errors().len(), invalid.omitted()),
        (MAX_LISTED_ERRORS, 500)
    );
    assert_eq!(
        invalid.errors()[0].to_string(),
        "f.csv:1502: column email: duplicate key email:u0@example.com: line 2 changes the same user; a user may appear only once per file"
    );
    assert_eq!(invalid.errors()[MAX_LISTED_ERRORS - 1].line(), 2501);
}

#[test]
fn utf16_files_are_refused_with_a_hint() {
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "email\r\na@example.com\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    for format in [Format::Csv, Format::Jsonl] {
        let options = EnqueueOptions {
            format: Some(format),
            ..EnqueueOptions::default()
        };
        let result = validate(
            InputSource::reader("f", std::io::Cursor::new(utf16.clone())),
            &options,
        );
        assert_eq!(
            errors_of(result),
            [r#"f:1: the file is UTF-16 encoded; save it as UTF-8 (in Excel: "CSV UTF-8")"#],
            "{format}"
        );
    }
}
