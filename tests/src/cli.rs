//! The `hersys` binary as an integrator meets it on the first day: a data dir without a store is refused by every
//! command that works on one (naming `--data-dir` and the path, creating nothing), only `serve` and `import` start a
//! store (and say so), and `token`'s refusals name its flags. One test needs the emulators: `--aws` is not refused.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::http::{Server, data_dir_with_a_store, hersys_embedded};

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../infra/events")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every command that works on an existing store, each as a user would type it, on `data_dir`.
fn commands_on_a_store(data_dir: &Path, scratch: &Path) -> Vec<Vec<std::ffi::OsString>> {
    let event = events_dir().join("scheduled-linkage.json");
    let links = scratch.join("links.csv");
    let commands: [&[&std::ffi::OsStr]; 10] = [
        &["token".as_ref(), "--role".as_ref(), "analyst".as_ref()],
        &["invoke".as_ref(), "linkage".as_ref(), "--event".as_ref(), event.as_os_str()],
        &["export".as_ref(), "--now".as_ref(), "2021-10-01T00:00:00Z".as_ref()],
        &["relink".as_ref(), "--partitions".as_ref(), "2".as_ref()],
        &["links".as_ref(), "--out".as_ref(), links.as_os_str()],
        &["graph-source".as_ref(), "list".as_ref()],
        &["graph-source".as_ref(), "set".as_ref(), "44".as_ref(), "--clear".as_ref()],
        &["outbox".as_ref()],
        &["audit".as_ref()],
        &["audit".as_ref(), "--json".as_ref()],
    ];
    commands
        .iter()
        .map(|args| {
            let mut args: Vec<std::ffi::OsString> = args.iter().map(|a| a.to_os_string()).collect();
            args.push("--data-dir".into());
            args.push(data_dir.into());
            args
        })
        .collect()
}

/// A mistyped `--data-dir` is refused by each command that needs a store, with the flag and the path in the error,
/// and nothing is made there: no directory, no key, no store.
#[test]
fn every_command_on_a_store_refuses_a_data_dir_without_one_and_creates_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let typo = scratch.path().join("hersys-typo");
    for args in commands_on_a_store(&typo, scratch.path()) {
        let out = hersys_embedded().args(&args).output().unwrap();
        let shown = format!("hersys {}", args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" "));
        assert!(!out.status.success(), "{shown} succeeded on a data dir without a store");
        let said = stderr(&out);
        assert!(
            said.contains(&format!("--data-dir {} holds no hersys store", typo.display())),
            "{shown} did not name --data-dir and the path: {said}"
        );
        assert!(said.contains(&format!("hersys serve --data-dir {}", typo.display())), "{shown}: {said}");
        assert!(!typo.exists(), "{shown} created {}", typo.display());
        assert!(out.stdout.is_empty(), "{shown} printed {}", String::from_utf8_lossy(&out.stdout));
    }
    assert!(!scratch.path().join("links.csv").exists());
}

/// Without `--data-dir`, the default `./.hersys` is refused the same way when it holds no store, and not created.
#[test]
fn the_default_data_dir_is_refused_when_it_holds_no_store() {
    let cwd = tempfile::tempdir().unwrap();
    for args in [&["token", "--role", "operator"][..], &["outbox"], &["graph-source", "list"]] {
        let out = hersys_embedded().args(args).current_dir(cwd.path()).output().unwrap();
        assert!(!out.status.success(), "hersys {args:?}");
        assert!(stderr(&out).contains("--data-dir .hersys (the default) holds no hersys store"), "{}", stderr(&out));
        assert!(stderr(&out).contains("`hersys serve`"), "{}", stderr(&out));
        assert!(!cwd.path().join(".hersys").exists(), "hersys {args:?} created ./.hersys");
    }
}

/// On a data dir that `serve` started, the same commands run.
#[test]
fn the_commands_run_on_a_data_dir_that_serve_started() {
    let data_dir = data_dir_with_a_store();
    let scratch = tempfile::tempdir().unwrap();
    for args in commands_on_a_store(data_dir.path(), scratch.path()) {
        let out = hersys_embedded().args(&args).output().unwrap();
        assert!(out.status.success(), "hersys {args:?}: {}", stderr(&out));
    }
}

/// `import` starts a store where there is none and says so on stderr, once; an import of a file that cannot be
/// opened fails before it creates anything. The summary counts its one row as "1 row".
#[test]
fn import_starts_a_store_and_says_so() {
    let scratch = tempfile::tempdir().unwrap();
    let data_dir = scratch.path().join("new-data");
    let out = hersys_embedded()
        .args(["import", "linelist"])
        .arg(scratch.path().join("absent.csv"))
        .arg("--data-dir")
        .arg(&data_dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("absent.csv"), "{}", stderr(&out));
    assert!(!data_dir.exists(), "a failed import created {}", data_dir.display());

    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/linelist/oita/440001oitacovid19patients__2021-10-01.csv");
    let text = std::fs::read_to_string(full).unwrap();
    let one_row = scratch.path().join("one-row.csv");
    std::fs::write(&one_row, text.lines().take(2).collect::<Vec<_>>().join("\n") + "\n").unwrap();
    let import = || {
        hersys_embedded().args(["import", "linelist"]).arg(&one_row).arg("--data-dir").arg(&data_dir).output().unwrap()
    };
    let first = import();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stderr(&first).contains(&format!("created a new store in {}", data_dir.display())), "{}", stderr(&first));
    let summary = String::from_utf8_lossy(&first.stdout);
    assert!(summary.starts_with(&format!("{}: 1 row in ", one_row.display())), "{summary}");
    let again = import();
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(!stderr(&again).contains("created"), "only a new store is announced: {}", stderr(&again));
}

/// `serve` on a directory without a store starts one and says where, on stderr (stdout's first line is the address).
#[test]
fn serve_starts_a_store_and_says_so() {
    let server = Server::start(&[], &[]);
    let log = server.log_text();
    assert!(log.contains(&format!("created a new store in {}", server.data_dir.path().display())), "{log}");
    assert!(server.data_dir.path().join(embedded::STORE_FILE).is_file());
}

/// `hersys token --data-dir DIR` with the arguments `args`.
fn token(data_dir: &Path, args: &[&str]) -> Output {
    hersys_embedded().arg("token").args(args).arg("--data-dir").arg(data_dir).output().unwrap()
}

/// The refusals speak of flags, not of JWT claims: a missing or misplaced `--health-center`, an unknown `--role`
/// (with the list of roles), an empty `--subject`, hours that are not at least one.
#[test]
fn token_refusals_name_the_flags() {
    let data_dir = data_dir_with_a_store();
    let refused = |args: &[&str], expected: &str| {
        let out = token(data_dir.path(), args);
        assert!(!out.status.success(), "hersys token {args:?} succeeded");
        assert!(stderr(&out).contains(expected), "hersys token {args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("claim"), "hersys token {args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
    };
    refused(&["--role", "health_center"], "--health-center is required for --role health_center");
    refused(
        &["--role", "quarantine", "--health-center", "131016"],
        "--health-center goes with --role health_center only; --role quarantine takes no health centre",
    );
    refused(&["--role", "health_center", "--health-center", "13-1016"], "--health-center must be");
    refused(&["--role", "admin"], "invalid value 'admin' for '--role <ROLE>'");
    refused(
        &["--role", "admin"],
        "[possible values: health_center, quarantine, follow_up, app_backend, analyst, operator]",
    );
    refused(&["--role", "analyst", "--subject", ""], "--subject must not be empty");
    refused(&["--role", "analyst", "--hours", "0"], "--hours");

    let ok = token(data_dir.path(), &["--role", "health_center", "--health-center", "131016"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let help = hersys_embedded().args(["token", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("health_center, quarantine, follow_up, app_backend, analyst, operator"), "{help}");
}

/// `serve --aws` keeps no store in its data dir, only keys: `token` signs with the key it finds there, and refuses
/// a directory with neither key nor store.
#[test]
fn token_signs_with_the_key_of_a_data_dir_without_a_store() {
    let keys_only = tempfile::tempdir().unwrap();
    std::fs::write(keys_only.path().join("jwt.key"), "0".repeat(64)).unwrap();
    let out = token(keys_only.path(), &["--role", "operator"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!keys_only.path().join(embedded::STORE_FILE).exists(), "token creates no store");
}

/// With `--aws` the store is the tables: a data dir without a store is not refused (it holds the keys only), and no
/// store file is made there.
#[test]
fn with_aws_a_data_dir_without_a_store_is_not_refused() {
    let tables = aws_adapters::TableNames::with_prefix(&format!("c{}", uuid::Uuid::new_v4().simple()));
    let data_dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(crate::http::hersys_bin())
        .args(["graph-source", "list", "--aws", "--data-dir"])
        .arg(data_dir.path())
        .env("AWS_ENDPOINT_URL_DYNAMODB", crate::emulators::endpoint("AWS_ENDPOINT_URL_DYNAMODB"))
        .env("AWS_ENDPOINT_URL", crate::emulators::endpoint("AWS_ENDPOINT_URL"))
        .envs(tables.env_vars())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!data_dir.path().join(embedded::STORE_FILE).exists());
}

/// `serve`'s hints for an empty store carry the data dir it runs on (it is not the default here), so that they can
/// be copied as they are.
#[tokio::test]
async fn the_empty_store_hints_carry_the_data_dir() {
    let server = Server::start(&[], &[]);
    let dir = server.data_dir.path().display().to_string();
    let log = server.log_holding("The store is empty", 1).await;
    for hint in [
        format!("`hersys serve --demo --data-dir {dir}`"),
        format!("`hersys import entries|linelist FILE.csv --data-dir {dir}`"),
        format!("`hersys token --role health_center --health-center CODE --data-dir {dir}`"),
    ] {
        assert!(log.contains(&hint), "no {hint} in:\n{log}");
    }
}
