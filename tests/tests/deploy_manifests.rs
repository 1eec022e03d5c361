#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The shipping surface: every file under `deploy/` is parsed and held to what an operator relies on.
//!
//! - Kubernetes manifests: valid (multi-document) YAML; `apiVersion`, `kind`, `metadata.name`; per kind what makes it
//!   work (a Deployment whose selector matches its pods, probes on `/healthz` and `/readyz`, credentials from
//!   Secrets, a termination grace longer than `--shutdown-grace`, …); cross-references between files (a
//!   ScaledObject, HPA or PDB that targets the Deployment that exists; every Secret key a pod reads is in the
//!   example Secret; every kustomization lists files that exist and every manifest is listed or an
//!   example/alternative).
//! - docker-compose, the Dockerfile, the systemd unit and its env file, the Redis config.
//! - gcbulk command lines everywhere they appear use only flags of the contract.
//! - No file holds anything that looks like a real secret.
//! - Every file in `deploy/` is covered by one of the checks: a new file without a check fails
//!   [`every_file_in_deploy_is_covered_by_a_check`].
//! - The example inputs (examples/ and the Job's CSV) pass `gcbulk enqueue --dry-run` when the binary is built.
//!
//! Run alone with `cargo test -p gcbulk-e2e --test deploy_manifests`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------------------------
// What the files are and where they are
// ---------------------------------------------------------------------------------------------------------------

/// The kinds of file `deploy/` may hold; each has its own checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    KubernetesManifest,
    Kustomization,
    KustomizeInputCsv,
    Compose,
    Dockerfile,
    SystemdUnit,
    EnvFileExample,
    RedisConf,
}

/// Which checks cover a file of `deploy/`, by its path relative to the repository root; `None` if none does.
fn classify(rel: &str) -> Option<FileKind> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    match rel {
        "deploy/Dockerfile" => return Some(FileKind::Dockerfile),
        "deploy/docker-compose.yml" => return Some(FileKind::Compose),
        _ => {}
    }
    if let Some(rest) = rel.strip_prefix("deploy/k8s/") {
        let _ = rest;
        if name == "kustomization.yaml" {
            return Some(FileKind::Kustomization);
        }
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            return Some(FileKind::KubernetesManifest);
        }
        if name.ends_with(".csv") {
            return Some(FileKind::KustomizeInputCsv);
        }
        return None;
    }
    if rel.starts_with("deploy/systemd/") {
        if name.ends_with(".service") {
            return Some(FileKind::SystemdUnit);
        }
        if name.ends_with(".env.example") {
            return Some(FileKind::EnvFileExample);
        }
        return None;
    }
    if rel.starts_with("deploy/redis/") && name.ends_with(".conf") {
        return Some(FileKind::RedisConf);
    }
    None
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn read(rel: &str) -> String {
    let path = repo_root().join(rel);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every file under `dir` (relative to the repository root), recursively, sorted.
fn files_under(dir: &str) -> Vec<String> {
    let root = repo_root();
    let mut out = Vec::new();
    let mut stack = vec![root.join(dir)];
    while let Some(path) = stack.pop() {
        for entry in
            fs::read_dir(&path).unwrap_or_else(|e| panic!("cannot list {}: {e}", path.display()))
        {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

fn deploy_files() -> Vec<String> {
    let files = files_under("deploy");
    assert!(!files.is_empty(), "deploy/ is empty");
    files
}

fn files_of(kind: FileKind) -> Vec<String> {
    deploy_files()
        .into_iter()
        .filter(|f| classify(f) == Some(kind))
        .collect()
}

/// Collects every problem found, so one run reports all of them rather than the first.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    fn add(&mut self, what: String) {
        self.0.push(what);
    }

    fn assert_none(self, context: &str) {
        assert!(
            self.0.is_empty(),
            "{context}:\n  - {}",
            self.0.join("\n  - ")
        );
    }
}

// ---------------------------------------------------------------------------------------------------------------
// YAML
// ---------------------------------------------------------------------------------------------------------------

/// The non-empty documents of a YAML file, merge keys (`<<:`) applied, as JSON values.
fn yaml_documents(rel: &str) -> Result<Vec<Value>, String> {
    let text = read(rel);
    let mut docs = Vec::new();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(&text).enumerate() {
        let mut value = serde_yaml_ng::Value::deserialize(document)
            .map_err(|e| format!("{rel}: document {}: invalid YAML: {e}", index + 1))?;
        value
            .apply_merge()
            .map_err(|e| format!("{rel}: document {}: bad merge key: {e}", index + 1))?;
        if value.is_null() {
            continue;
        }
        let json = serde_json::to_value(&value).map_err(|e| {
            format!(
                "{rel}: document {}: not representable as JSON (non-string key?): {e}",
                index + 1
            )
        })?;
        docs.push(json);
    }
    if docs.is_empty() {
        return Err(format!("{rel}: no YAML document"));
    }
    Ok(docs)
}

fn docs(rel: &str) -> Vec<Value> {
    yaml_documents(rel).unwrap_or_else(|e| panic!("{e}"))
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn int_at(value: &Value, pointer: &str) -> Option<i64> {
    value.pointer(pointer).and_then(Value::as_i64)
}

fn array_at<'a>(value: &'a Value, pointer: &str) -> &'a [Value] {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn string_list(value: &Value, pointer: &str) -> Vec<String> {
    array_at(value, pointer)
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// Every Kubernetes manifest document, with the file it came from.
fn all_manifests() -> Vec<(String, Value)> {
    files_of(FileKind::KubernetesManifest)
        .into_iter()
        .flat_map(|file| docs(&file).into_iter().map(move |doc| (file.clone(), doc)))
        .collect()
}

fn manifests_of_kind(kind: &str) -> Vec<(String, Value)> {
    all_manifests()
        .into_iter()
        .filter(|(_, doc)| str_at(doc, "/kind") == Some(kind))
        .collect()
}

// ---------------------------------------------------------------------------------------------------------------
// gcbulk command lines (the contract's flags)
// ---------------------------------------------------------------------------------------------------------------

const GLOBAL_FLAGS: [&str; 3] = ["redis-url", "namespace", "log-format"];
const BOOLEAN_FLAGS: [&str; 5] = ["dry-run", "json", "exit-when-idle", "watch", "all"];

fn subcommand_flags(subcommand: &str) -> Option<&'static [&'static str]> {
    Some(match subcommand {
        "enqueue" => &["format", "chunk-size", "batch-id", "dry-run", "json"],
        "worker" => &[
            "concurrency",
            "rate-limit",
            "exit-when-idle",
            "metrics-addr",
            "shutdown-grace",
            "max-attempts",
            "region",
            "api-url",
            "login-url",
            "external-id-authority",
        ],
        "status" => &["json", "watch"],
        "dlq" => &["batch", "json", "limit", "all", "format"],
        "mock-genesys" => &[
            "addr",
            "users",
            "rate-limit",
            "window",
            "client-id",
            "client-secret",
            "ready-file",
        ],
        _ => return None,
    })
}

/// The value of `--flag V` or `--flag=V` in a command line.
fn flag_value(args: &[String], flag: &str) -> Option<String> {
    let long = format!("--{flag}");
    let with_eq = format!("--{flag}=");
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if *arg == long {
            return iter.next().cloned();
        }
        if let Some(v) = arg.strip_prefix(&with_eq) {
            return Some(v.to_string());
        }
    }
    None
}

/// The subcommand of a gcbulk command line (the arguments after the program name).
fn subcommand_of(args: &[String]) -> Option<&str> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if let Some(flag) = arg.strip_prefix("--") {
            if !flag.contains('=') && !BOOLEAN_FLAGS.contains(&flag) {
                iter.next();
            }
            continue;
        }
        return Some(arg.as_str());
    }
    None
}

/// Checks that a gcbulk command line uses a subcommand and flags of the contract, each with a value where needed.
fn check_command_line(args: &[String], origin: &str, problems: &mut Problems) {
    let Some(sub) = subcommand_of(args) else {
        problems.add(format!(
            "{origin}: gcbulk command line {args:?} has no subcommand"
        ));
        return;
    };
    let Some(known) = subcommand_flags(sub) else {
        problems.add(format!(
            "{origin}: unknown gcbulk subcommand {sub:?} in {args:?}"
        ));
        return;
    };
    let mut iter = args.iter().peekable();
    while let Some(arg) = iter.next() {
        let Some(flag) = arg.strip_prefix("--") else {
            continue;
        };
        let (name, inline_value) = match flag.split_once('=') {
            Some((n, _)) => (n, true),
            None => (flag, false),
        };
        if name == "help" || name == "version" {
            continue;
        }
        if !known.contains(&name) && !GLOBAL_FLAGS.contains(&name) {
            problems.add(format!(
                "{origin}: `gcbulk {sub}` has no flag --{name} (see the contract)"
            ));
            continue;
        }
        if !BOOLEAN_FLAGS.contains(&name) && !inline_value {
            match iter.next() {
                Some(v) if !v.starts_with("--") => {}
                _ => problems.add(format!("{origin}: --{name} needs a value in {args:?}")),
            }
        }
    }
}

/// The `--shutdown-grace` of a worker command line (the CLI's default when absent).
fn shutdown_grace(args: &[String]) -> Result<u64, String> {
    match flag_value(args, "shutdown-grace") {
        None => Ok(30),
        Some(v) => v
            .parse()
            .map_err(|_| format!("--shutdown-grace {v:?} is not a number of seconds")),
    }
}

/// The port of `--metrics-addr`, if given.
fn metrics_port(args: &[String]) -> Option<u16> {
    let addr = flag_value(args, "metrics-addr")?;
    addr.rsplit(':').next()?.parse().ok()
}

// ---------------------------------------------------------------------------------------------------------------
// Coverage and syntax
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn every_file_in_deploy_is_covered_by_a_check() {
    let mut problems = Problems::default();
    for file in deploy_files() {
        problems.check(classify(&file).is_some(), || {
            format!("{file}: no check covers this file; add one to tests/tests/deploy_manifests.rs (fn classify)")
        });
    }
    problems.assert_none("files in deploy/ without a check");
}

#[test]
fn the_deploy_directory_has_every_target() {
    let files: BTreeSet<String> = deploy_files().into_iter().collect();
    let mut problems = Problems::default();
    for required in [
        "deploy/Dockerfile",
        "deploy/docker-compose.yml",
        "deploy/k8s/kustomization.yaml",
        "deploy/systemd/gcbulk-worker.service",
        "deploy/redis/redis.conf",
    ] {
        problems.check(files.contains(required), || {
            format!("{required} is missing")
        });
    }
    problems.check(repo_root().join(".dockerignore").is_file(), || {
        ".dockerignore is missing".into()
    });
    for kind in [
        "Deployment",
        "PodDisruptionBudget",
        "ScaledObject",
        "HorizontalPodAutoscaler",
        "Job",
        "Secret",
    ] {
        problems.check(!manifests_of_kind(kind).is_empty(), || {
            format!("no {kind} in deploy/k8s")
        });
    }
    problems.assert_none("deploy/ is incomplete");
}

#[test]
fn every_yaml_file_parses() {
    let mut problems = Problems::default();
    for file in deploy_files() {
        if matches!(
            classify(&file),
            Some(FileKind::KubernetesManifest | FileKind::Kustomization | FileKind::Compose)
        ) && let Err(e) = yaml_documents(&file)
        {
            problems.add(e);
        }
    }
    problems.assert_none("YAML that does not parse");
}

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn kubernetes_manifests_have_the_required_fields_of_their_kind() {
    let mut problems = Problems::default();
    for (file, doc) in all_manifests() {
        let kind = str_at(&doc, "/kind").unwrap_or_default().to_string();
        let name = str_at(&doc, "/metadata/name")
            .unwrap_or_default()
            .to_string();
        let at = format!("{file}: {kind} {name}");
        problems.check(
            str_at(&doc, "/apiVersion").is_some_and(|v| !v.is_empty()),
            || format!("{file}: a document has no apiVersion"),
        );
        problems.check(!kind.is_empty(), || {
            format!("{file}: a document has no kind")
        });
        problems.check(!name.is_empty(), || {
            format!("{file}: a {kind} has no metadata.name")
        });
        let api = str_at(&doc, "/apiVersion").unwrap_or_default();
        match kind.as_str() {
            "Deployment" => {
                problems.check(api == "apps/v1", || {
                    format!("{at}: apiVersion {api}, want apps/v1")
                });
                check_deployment(&at, &doc, &mut problems);
            }
            "Job" => {
                problems.check(api == "batch/v1", || {
                    format!("{at}: apiVersion {api}, want batch/v1")
                });
                check_job(&file, &at, &doc, &mut problems);
            }
            "PodDisruptionBudget" => {
                problems.check(api == "policy/v1", || {
                    format!("{at}: apiVersion {api}, want policy/v1")
                });
                let min = doc.pointer("/spec/minAvailable").is_some();
                let max = doc.pointer("/spec/maxUnavailable").is_some();
                problems.check(min ^ max, || {
                    format!("{at}: set exactly one of minAvailable and maxUnavailable")
                });
                problems.check(
                    doc.pointer("/spec/selector/matchLabels")
                        .is_some_and(Value::is_object),
                    || format!("{at}: no spec.selector.matchLabels"),
                );
            }
            "ScaledObject" => {
                problems.check(api == "keda.sh/v1alpha1", || {
                    format!("{at}: apiVersion {api}, want keda.sh/v1alpha1")
                });
                check_scaled_object(&at, &doc, &mut problems);
            }
            "TriggerAuthentication" => {
                problems.check(api == "keda.sh/v1alpha1", || {
                    format!("{at}: apiVersion {api}, want keda.sh/v1alpha1")
                });
                problems.check(!array_at(&doc, "/spec/secretTargetRef").is_empty(), || {
                    format!("{at}: no spec.secretTargetRef")
                });
            }
            "HorizontalPodAutoscaler" => {
                problems.check(api == "autoscaling/v2", || {
                    format!("{at}: apiVersion {api}, want autoscaling/v2")
                });
                let min = int_at(&doc, "/spec/minReplicas").unwrap_or(1);
                let max = int_at(&doc, "/spec/maxReplicas");
                problems.check(max.is_some_and(|max| max >= min && min >= 1), || {
                    format!("{at}: want 1 <= minReplicas <= maxReplicas")
                });
                problems.check(!array_at(&doc, "/spec/metrics").is_empty(), || {
                    format!("{at}: no spec.metrics")
                });
            }
            "Secret" => {
                problems.check(api == "v1", || format!("{at}: apiVersion {api}, want v1"));
                problems.check(file.ends_with(".example.yaml"), || {
                    format!("{at}: Secrets belong in *.example.yaml files (placeholders), never in applied manifests")
                });
                problems.check(doc.pointer("/data").is_none(), || {
                    format!("{at}: use stringData with visible placeholders, not base64 data")
                });
                let entries = doc.pointer("/stringData").and_then(Value::as_object);
                problems.check(entries.is_some_and(|m| !m.is_empty()), || {
                    format!("{at}: no stringData")
                });
                for (key, value) in entries.into_iter().flatten() {
                    let value = value.as_str().unwrap_or_default();
                    problems.check(is_placeholder_text(value), || {
                        format!("{at}: stringData.{key} must be a <placeholder>, not a value")
                    });
                }
            }
            "Namespace" => {
                problems.check(api == "v1", || format!("{at}: apiVersion {api}, want v1"))
            }
            "ConfigMap" => {
                problems.check(api == "v1", || format!("{at}: apiVersion {api}, want v1"))
            }
            other => problems.add(format!(
                "{at}: no check knows kind {other:?}; add one to tests/tests/deploy_manifests.rs"
            )),
        }
    }
    problems.assert_none("Kubernetes manifests");
}

/// What every pod template must have, whatever runs it.
fn check_pod_template(at: &str, template: &Value, problems: &mut Problems) {
    let pod = template.pointer("/spec").cloned().unwrap_or(Value::Null);
    let pod_non_root = pod.pointer("/securityContext/runAsNonRoot") == Some(&Value::Bool(true));
    let containers = array_at(&pod, "/containers");
    problems.check(!containers.is_empty(), || format!("{at}: no containers"));
    for container in containers {
        let cname = str_at(container, "/name").unwrap_or("?");
        let at = format!("{at}: container {cname}");
        problems.check(
            str_at(container, "/image").is_some_and(|i| !i.is_empty()),
            || format!("{at}: no image"),
        );
        for pointer in [
            "/resources/requests/cpu",
            "/resources/requests/memory",
            "/resources/limits/memory",
        ] {
            problems.check(container.pointer(pointer).is_some(), || {
                format!("{at}: no resources{pointer}")
            });
        }
        let non_root = pod_non_root
            || container.pointer("/securityContext/runAsNonRoot") == Some(&Value::Bool(true));
        problems.check(non_root, || format!("{at}: runAsNonRoot is not true"));
        problems.check(
            container.pointer("/securityContext/readOnlyRootFilesystem")
                == Some(&Value::Bool(true)),
            || format!("{at}: readOnlyRootFilesystem is not true"),
        );
        problems.check(
            container.pointer("/securityContext/allowPrivilegeEscalation")
                == Some(&Value::Bool(false)),
            || format!("{at}: allowPrivilegeEscalation is not false"),
        );
        let args = string_list(container, "/args");
        check_command_line(&args, &at, problems);
        // Secrets and the Redis URL (which carries its password) come from Secrets, never inline.
        for env in array_at(container, "/env") {
            let name = str_at(env, "/name").unwrap_or_default();
            let sensitive = name == "GCBULK_REDIS_URL" || looks_sensitive_key(name);
            if sensitive {
                problems.check(
                    env.pointer("/valueFrom/secretKeyRef").is_some()
                        && env.pointer("/value").is_none(),
                    || format!("{at}: env {name} must come from a Secret (valueFrom.secretKeyRef)"),
                );
            }
        }
    }
}

fn env_of(container: &Value, name: &str) -> Option<Value> {
    array_at(container, "/env")
        .iter()
        .find(|e| str_at(e, "/name") == Some(name))
        .cloned()
}

fn check_deployment(at: &str, doc: &Value, problems: &mut Problems) {
    let selector = doc
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object);
    let labels = doc
        .pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object);
    match (selector, labels) {
        (Some(selector), Some(labels)) if !selector.is_empty() => {
            for (k, v) in selector {
                problems.check(labels.get(k) == Some(v), || {
                    format!("{at}: selector {k}={v} is not a label of the pod template")
                });
            }
        }
        _ => problems.add(format!(
            "{at}: needs spec.selector.matchLabels and spec.template.metadata.labels"
        )),
    }
    let template = doc
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(Value::Null);
    check_pod_template(at, &template, problems);

    let grace = int_at(&template, "/spec/terminationGracePeriodSeconds");
    let annotations = template
        .pointer("/metadata/annotations")
        .cloned()
        .unwrap_or(Value::Null);
    for container in array_at(&template, "/spec/containers") {
        let args = string_list(container, "/args");
        if subcommand_of(&args) != Some("worker") {
            continue;
        }
        let cname = str_at(container, "/name").unwrap_or("?");
        let at = format!("{at}: container {cname}");
        match (shutdown_grace(&args), grace) {
            (Ok(shutdown), Some(grace)) => problems.check(grace > shutdown as i64, || {
                format!("{at}: terminationGracePeriodSeconds {grace} must exceed --shutdown-grace {shutdown}")
            }),
            (Err(e), _) => problems.add(format!("{at}: {e}")),
            (_, None) => problems.add(format!("{at}: set terminationGracePeriodSeconds (> --shutdown-grace)")),
        }
        for var in [
            "GENESYS_CLIENT_ID",
            "GENESYS_CLIENT_SECRET",
            "GCBULK_REDIS_URL",
        ] {
            let from_secret = env_of(container, var)
                .is_some_and(|e| e.pointer("/valueFrom/secretKeyRef").is_some());
            problems.check(from_secret, || {
                format!("{at}: {var} must be set from a Secret (secretKeyRef)")
            });
        }
        let Some(port) = metrics_port(&args) else {
            problems.add(format!(
                "{at}: a worker Deployment needs --metrics-addr (probes and metrics live there)"
            ));
            continue;
        };
        let ports = array_at(container, "/ports");
        let port_name = ports
            .iter()
            .find(|p| int_at(p, "/containerPort") == Some(i64::from(port)))
            .and_then(|p| str_at(p, "/name"));
        problems.check(port_name.is_some(), || {
            format!("{at}: --metrics-addr port {port} is not a named containerPort")
        });
        for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
            let probe_value = container
                .pointer(&format!("/{probe}"))
                .cloned()
                .unwrap_or(Value::Null);
            problems.check(str_at(&probe_value, "/httpGet/path") == Some(path), || {
                format!("{at}: {probe} must be httpGet {path}")
            });
            let probe_port = probe_value.pointer("/httpGet/port");
            let port_ok = match probe_port {
                Some(Value::Number(n)) => n.as_u64() == Some(u64::from(port)),
                Some(Value::String(s)) => Some(s.as_str()) == port_name,
                _ => false,
            };
            problems.check(port_ok, || {
                format!("{at}: {probe} must probe the metrics port {port}")
            });
        }
        problems.check(
            str_at(&annotations, "/prometheus.io~1scrape") == Some("true"),
            || format!("{at}: pod annotation prometheus.io/scrape must be \"true\""),
        );
        problems.check(str_at(&annotations, "/prometheus.io~1port") == Some(port.to_string().as_str()), || {
            format!("{at}: pod annotation prometheus.io/port must be \"{port}\" (the --metrics-addr port)")
        });
    }
}

fn check_job(file: &str, at: &str, doc: &Value, problems: &mut Problems) {
    let template = doc
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(Value::Null);
    check_pod_template(at, &template, problems);
    let restart = str_at(&template, "/spec/restartPolicy").unwrap_or_default();
    problems.check(matches!(restart, "Never" | "OnFailure"), || {
        format!("{at}: restartPolicy must be Never or OnFailure")
    });
    if doc.pointer("/spec/podFailurePolicy").is_some() {
        problems.check(restart == "Never", || {
            format!("{at}: podFailurePolicy needs restartPolicy Never")
        });
    }
    problems.check(int_at(doc, "/spec/backoffLimit").is_some(), || {
        format!("{at}: set spec.backoffLimit")
    });

    // Its input comes from a ConfigMap: a manifest of this repository or a generator of its kustomization.
    let volumes = array_at(&template, "/spec/volumes");
    let mut configmaps = volumes
        .iter()
        .filter_map(|v| str_at(v, "/configMap/name").map(str::to_string));
    let Some(configmap) = configmaps.next() else {
        problems.add(format!("{at}: the Job's input must be a ConfigMap volume"));
        return;
    };
    let defined_as_manifest = manifests_of_kind("ConfigMap")
        .iter()
        .any(|(_, cm)| str_at(cm, "/metadata/name") == Some(configmap.as_str()));
    let dir = file.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let kustomization = format!("{dir}/kustomization.yaml");
    let generated = repo_root().join(&kustomization).is_file()
        && docs(&kustomization).iter().any(|k| {
            array_at(k, "/configMapGenerator")
                .iter()
                .any(|g| str_at(g, "/name") == Some(configmap.as_str()))
        });
    problems.check(defined_as_manifest || generated, || {
        format!(
            "{at}: ConfigMap {configmap} is neither a manifest nor generated by {kustomization}"
        )
    });
    for container in array_at(&template, "/spec/containers") {
        let args = string_list(container, "/args");
        if subcommand_of(&args) != Some("enqueue") {
            continue;
        }
        let input = args
            .iter()
            .skip_while(|a| a.as_str() != "enqueue")
            .nth(1)
            .cloned()
            .unwrap_or_default();
        let mounted = array_at(container, "/volumeMounts").iter().any(|m| {
            let path = str_at(m, "/mountPath").unwrap_or("\u{0}");
            let volume = str_at(m, "/name").unwrap_or_default();
            input.starts_with(&format!("{}/", path.trim_end_matches('/')))
                && volumes.iter().any(|v| {
                    str_at(v, "/name") == Some(volume)
                        && str_at(v, "/configMap/name") == Some(configmap.as_str())
                })
        });
        problems.check(mounted, || {
            format!("{at}: the enqueue input {input:?} is not in the mounted ConfigMap")
        });
    }
}

fn check_scaled_object(at: &str, doc: &Value, problems: &mut Problems) {
    let min = int_at(doc, "/spec/minReplicaCount").unwrap_or(0);
    let max = int_at(doc, "/spec/maxReplicaCount").unwrap_or(100);
    problems.check(min <= max, || {
        format!("{at}: minReplicaCount > maxReplicaCount")
    });
    let triggers = array_at(doc, "/spec/triggers");
    problems.check(!triggers.is_empty(), || format!("{at}: no triggers"));
    let namespace = worker_namespace();
    for trigger in triggers {
        let kind = str_at(trigger, "/type").unwrap_or_default();
        problems.check(
            matches!(
                kind,
                "redis-streams" | "redis-cluster-streams" | "redis-sentinel-streams"
            ),
            || format!("{at}: trigger type {kind:?}, want redis-streams"),
        );
        let metadata = trigger.pointer("/metadata").and_then(Value::as_object);
        let Some(metadata) = metadata else {
            problems.add(format!("{at}: trigger without metadata"));
            continue;
        };
        // KEDA reads trigger metadata as map[string]string: an unquoted number breaks the ScaledObject.
        for (key, value) in metadata {
            problems.check(value.is_string(), || {
                format!("{at}: trigger metadata {key} must be a quoted string")
            });
        }
        let want_stream = format!("{{{namespace}}}:jobs");
        problems.check(metadata.get("stream").and_then(Value::as_str) == Some(want_stream.as_str()), || {
            format!("{at}: trigger stream must be {want_stream:?} (the jobs stream of GCBULK_NAMESPACE={namespace})")
        });
        problems.check(
            metadata.get("consumerGroup").and_then(Value::as_str) == Some("workers"),
            || format!("{at}: trigger consumerGroup must be \"workers\""),
        );
        problems.check(
            ["lagCount", "pendingEntriesCount", "streamLength"]
                .iter()
                .any(|k| metadata.contains_key(*k)),
            || format!("{at}: trigger needs lagCount, pendingEntriesCount or streamLength"),
        );
        problems.check(
            [
                "address",
                "addressFromEnv",
                "addresses",
                "addressesFromEnv",
                "host",
                "hosts",
            ]
            .iter()
            .any(|k| metadata.contains_key(*k)),
            || format!("{at}: trigger has no Redis address"),
        );
        if let Some(auth) = str_at(trigger, "/authenticationRef/name") {
            let exists = manifests_of_kind("TriggerAuthentication")
                .iter()
                .any(|(_, t)| str_at(t, "/metadata/name") == Some(auth));
            problems.check(exists, || {
                format!("{at}: authenticationRef {auth} names no TriggerAuthentication")
            });
        }
    }
}

/// `GCBULK_NAMESPACE` of the worker Deployment (the contract's default when unset).
fn worker_namespace() -> String {
    for (_, deployment) in manifests_of_kind("Deployment") {
        for container in array_at(&deployment, "/spec/template/spec/containers") {
            if subcommand_of(&string_list(container, "/args")) == Some("worker") {
                if let Some(env) = env_of(container, "GCBULK_NAMESPACE") {
                    return str_at(&env, "/value").unwrap_or("gcbulk").to_string();
                }
                return "gcbulk".to_string();
            }
        }
    }
    "gcbulk".to_string()
}

#[test]
fn autoscalers_and_disruption_budgets_target_the_worker_deployment() {
    let deployments = manifests_of_kind("Deployment");
    let by_name: BTreeMap<String, Value> = deployments
        .iter()
        .map(|(_, d)| {
            (
                str_at(d, "/metadata/name").unwrap_or_default().to_string(),
                d.clone(),
            )
        })
        .collect();
    let mut problems = Problems::default();
    for kind in ["ScaledObject", "HorizontalPodAutoscaler"] {
        for (file, doc) in manifests_of_kind(kind) {
            let target_kind = str_at(&doc, "/spec/scaleTargetRef/kind").unwrap_or("Deployment");
            let target = str_at(&doc, "/spec/scaleTargetRef/name").unwrap_or_default();
            problems.check(
                target_kind == "Deployment" && by_name.contains_key(target),
                || {
                    format!(
                        "{file}: {kind} targets {target_kind} {target:?}, which no manifest defines"
                    )
                },
            );
            if kind == "HorizontalPodAutoscaler"
                && let Some(deployment) = by_name.get(target)
            {
                let uses_cpu = array_at(&doc, "/spec/metrics")
                    .iter()
                    .any(|m| str_at(m, "/resource/name") == Some("cpu"));
                let requests_cpu = array_at(deployment, "/spec/template/spec/containers")
                    .iter()
                    .all(|c| c.pointer("/resources/requests/cpu").is_some());
                problems.check(!uses_cpu || requests_cpu, || {
                    format!("{file}: a CPU-utilisation HPA needs cpu requests on every container of {target}")
                });
            }
        }
    }
    for (file, pdb) in manifests_of_kind("PodDisruptionBudget") {
        let selector = pdb
            .pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let matches_one = by_name.values().any(|d| {
            let labels = d
                .pointer("/spec/template/metadata/labels")
                .and_then(Value::as_object);
            labels.is_some_and(|labels| selector.iter().all(|(k, v)| labels.get(k) == Some(v)))
        });
        problems.check(!selector.is_empty() && matches_one, || {
            format!("{file}: the PodDisruptionBudget's selector matches the pods of no Deployment")
        });
    }
    problems.assert_none("autoscalers and budgets");
}

#[test]
fn every_secret_a_manifest_reads_is_described_by_the_example_secret() {
    let mut described: BTreeSet<(String, String)> = BTreeSet::new();
    for (_, secret) in manifests_of_kind("Secret") {
        let name = str_at(&secret, "/metadata/name")
            .unwrap_or_default()
            .to_string();
        for key in secret
            .pointer("/stringData")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.keys())
        {
            described.insert((name.clone(), key.clone()));
        }
    }
    let mut problems = Problems::default();
    for (file, doc) in all_manifests() {
        let mut refs = Vec::new();
        collect_secret_refs(&doc, &mut refs);
        for (name, key) in refs {
            problems.check(described.contains(&(name.clone(), key.clone())), || {
                format!(
                    "{file}: reads Secret {name} key {key}, which secret.example.yaml does not show"
                )
            });
        }
    }
    problems.assert_none("Secret references");
}

/// Every (secret, key) pair referenced by `secretKeyRef` or a KEDA `secretTargetRef`.
fn collect_secret_refs(value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if let Some(r) = map.get("secretKeyRef") {
                out.push((
                    str_at(r, "/name").unwrap_or_default().to_string(),
                    str_at(r, "/key").unwrap_or_default().to_string(),
                ));
            }
            if let Some(refs) = map.get("secretTargetRef").and_then(Value::as_array) {
                for r in refs {
                    out.push((
                        str_at(r, "/name").unwrap_or_default().to_string(),
                        str_at(r, "/key").unwrap_or_default().to_string(),
                    ));
                }
            }
            for v in map.values() {
                collect_secret_refs(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_secret_refs(v, out)),
        _ => {}
    }
}

#[test]
fn kustomizations_list_existing_files_and_every_manifest_is_applied_or_an_example() {
    let root = repo_root();
    let mut problems = Problems::default();
    let kustomizations = files_of(FileKind::Kustomization);
    problems.check(
        kustomizations
            .iter()
            .any(|k| k == "deploy/k8s/kustomization.yaml"),
        || "deploy/k8s/kustomization.yaml is missing".into(),
    );
    let mut listed: BTreeSet<String> = BTreeSet::new();
    for file in &kustomizations {
        let dir = file
            .rsplit_once('/')
            .map(|(d, _)| d.to_string())
            .unwrap_or_default();
        for doc in docs(file) {
            problems.check(
                str_at(&doc, "/apiVersion") == Some("kustomize.config.k8s.io/v1beta1"),
                || format!("{file}: apiVersion must be kustomize.config.k8s.io/v1beta1"),
            );
            problems.check(str_at(&doc, "/kind") == Some("Kustomization"), || {
                format!("{file}: kind must be Kustomization")
            });
            let mut referenced = string_list(&doc, "/resources");
            for generator in array_at(&doc, "/configMapGenerator")
                .iter()
                .chain(array_at(&doc, "/secretGenerator"))
            {
                for entry in string_list(generator, "/files") {
                    // `key=path` names the key; the file is the part after `=`.
                    referenced.push(
                        entry
                            .rsplit_once('=')
                            .map(|(_, p)| p.to_string())
                            .unwrap_or(entry),
                    );
                }
            }
            for resource in referenced {
                let path = format!("{dir}/{resource}");
                problems.check(root.join(&path).exists(), || {
                    format!("{file}: lists {resource}, which does not exist")
                });
                listed.insert(normalize(&path));
            }
            if let Some(namespace) = str_at(&doc, "/namespace") {
                let declared = manifests_of_kind("Namespace")
                    .iter()
                    .any(|(_, n)| str_at(n, "/metadata/name") == Some(namespace));
                problems.check(declared, || {
                    format!("{file}: namespace {namespace} has no Namespace manifest")
                });
            }
        }
    }
    // An applied manifest must be listed by its kustomization; examples and alternatives are applied by hand.
    for file in files_of(FileKind::KubernetesManifest)
        .into_iter()
        .chain(files_of(FileKind::KustomizeInputCsv))
    {
        let by_hand = file.ends_with(".example.yaml") || file.contains("/alternatives/");
        problems.check(by_hand || listed.contains(&file), || {
            format!("{file}: listed by no kustomization.yaml (or name it *.example.yaml / put it in alternatives/)")
        });
    }
    problems.assert_none("kustomizations");
}

/// `a/b/../c` → `a/c`, `a/./b` → `a/b`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

// ---------------------------------------------------------------------------------------------------------------
// docker-compose
// ---------------------------------------------------------------------------------------------------------------

/// A compose `command` as a list of words.
fn compose_command(service: &Value) -> Vec<String> {
    match service.pointer("/command") {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        Some(Value::Array(_)) => string_list(service, "/command"),
        _ => Vec::new(),
    }
}

/// A compose `environment` (map or `KEY=VALUE` list) as a map.
fn compose_environment(service: &Value) -> BTreeMap<String, String> {
    match service.pointer("/environment") {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// `45s`, `1m30s`, `2m`, `500ms` or a bare number of seconds.
fn compose_duration_secs(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return Some(secs);
    }
    let mut total = 0.0;
    let mut number = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&next) = chars.peek() {
            if next.is_ascii_alphabetic() {
                unit.push(next);
                chars.next();
            } else {
                break;
            }
        }
        let n: f64 = number.parse().ok()?;
        number.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
    }
    number.is_empty().then_some(total)
}

#[test]
fn the_compose_file_runs_durable_redis_the_look_alike_three_workers_and_a_one_off_enqueue() {
    let file = "deploy/docker-compose.yml";
    let compose = docs(file).remove(0);
    let services = compose
        .pointer("/services")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut problems = Problems::default();
    problems.check(!services.is_empty(), || format!("{file}: no services"));
    let deploy_dir = repo_root().join("deploy");

    for (name, service) in &services {
        let at = format!("{file}: service {name}");
        problems.check(
            service.pointer("/image").is_some() || service.pointer("/build").is_some(),
            || format!("{at}: needs image or build"),
        );
        if let Some(build) = service.pointer("/build") {
            let context = str_at(build, "/context").or(build.as_str()).unwrap_or(".");
            let dockerfile = str_at(build, "/dockerfile").unwrap_or("Dockerfile");
            let context_dir = deploy_dir.join(context);
            problems.check(context_dir.join(dockerfile).is_file(), || {
                format!("{at}: build context {context} has no {dockerfile}")
            });
        }
        for volume in string_list(service, "/volumes") {
            let host = volume.split(':').next().unwrap_or_default();
            if host.starts_with('.') || host.starts_with('/') {
                problems.check(deploy_dir.join(host).exists(), || {
                    format!("{at}: bind mount {host} does not exist")
                });
            }
        }
        if let Some(depends) = service.pointer("/depends_on") {
            let names: Vec<String> = match depends {
                Value::Object(m) => m.keys().cloned().collect(),
                Value::Array(_) => string_list(service, "/depends_on"),
                _ => Vec::new(),
            };
            for dependency in names {
                problems.check(services.contains_key(&dependency), || {
                    format!("{at}: depends on unknown {dependency}")
                });
            }
        }
        let command = compose_command(service);
        let image = str_at(service, "/image").unwrap_or_default();
        if service.pointer("/build").is_some() || image.starts_with("gcbulk") {
            check_command_line(&command, &at, &mut problems);
        }
    }

    // Redis: AOF on, fsync every second, never evict.
    let redis: Vec<(&String, &Value)> = services
        .iter()
        .filter(|(_, s)| str_at(s, "/image").is_some_and(|i| i.starts_with("redis")))
        .collect();
    problems.check(redis.len() == 1, || {
        format!("{file}: want exactly one redis service")
    });
    for (name, service) in &redis {
        let command = compose_command(service);
        for (flag, value) in [
            ("--appendonly", "yes"),
            ("--appendfsync", "everysec"),
            ("--maxmemory-policy", "noeviction"),
        ] {
            problems.check(
                flag_value_raw(&command, flag) == Some(value.to_string()),
                || format!("{file}: service {name} must run redis-server with {flag} {value}"),
            );
        }
        problems.check(!string_list(service, "/volumes").is_empty(), || {
            format!("{file}: service {name} needs a volume for its data (AOF)")
        });
    }

    // The look-alike.
    let mocks: Vec<(&String, &Value)> = services
        .iter()
        .filter(|(_, s)| subcommand_of(&compose_command(s)) == Some("mock-genesys"))
        .collect();
    problems.check(mocks.len() == 1, || {
        format!("{file}: want one service running mock-genesys")
    });
    let mock_name = mocks
        .first()
        .map(|(n, _)| n.to_string())
        .unwrap_or_default();
    let mock_port = mocks
        .first()
        .and_then(|(_, s)| flag_value(&compose_command(s), "addr"))
        .and_then(|a| a.rsplit(':').next().map(str::to_string))
        .unwrap_or_default();

    // Workers: three, pointed at the look-alike, with a stop grace longer than their shutdown grace.
    let mut worker_count = 0;
    for (name, service) in &services {
        let command = compose_command(service);
        if subcommand_of(&command) != Some("worker") {
            continue;
        }
        let at = format!("{file}: service {name}");
        worker_count += int_at(service, "/deploy/replicas").unwrap_or(1);
        let env = compose_environment(service);
        let mock_url = format!("http://{mock_name}:{mock_port}");
        for var in ["GENESYS_API_URL", "GENESYS_LOGIN_URL"] {
            problems.check(env.get(var) == Some(&mock_url), || {
                format!("{at}: {var} must be {mock_url}")
            });
        }
        for var in [
            "GENESYS_CLIENT_ID",
            "GENESYS_CLIENT_SECRET",
            "GCBULK_REDIS_URL",
        ] {
            problems.check(env.contains_key(var), || format!("{at}: no {var}"));
        }
        let grace = shutdown_grace(&command).unwrap_or(30) as f64;
        let stop = str_at(service, "/stop_grace_period")
            .and_then(compose_duration_secs)
            .unwrap_or(10.0);
        problems.check(stop > grace, || {
            format!("{at}: stop_grace_period {stop}s must exceed --shutdown-grace {grace}s")
        });
    }
    problems.check(worker_count >= 3, || {
        format!("{file}: want three workers, found {worker_count}")
    });

    // A one-off enqueue, behind a profile so `up` does not run it, with the examples mounted.
    let enqueue = services
        .iter()
        .find(|(_, s)| subcommand_of(&compose_command(s)) == Some("enqueue"));
    match enqueue {
        Some((name, service)) => {
            problems.check(!string_list(service, "/profiles").is_empty(), || {
                format!("{file}: service {name} (enqueue) must be behind a profile")
            });
            problems.check(
                string_list(service, "/volumes")
                    .iter()
                    .any(|v| v.contains("examples")),
                || format!("{file}: service {name} (enqueue) must mount the examples"),
            );
        }
        None => problems.add(format!("{file}: no one-off enqueue service")),
    }
    problems.assert_none("docker-compose");
}

/// Like [`flag_value`] for any program's `--flag value` (redis-server's too).
fn flag_value_raw(args: &[String], flag: &str) -> Option<String> {
    let position = args.iter().position(|a| a == flag)?;
    args.get(position + 1).cloned()
}

// ---------------------------------------------------------------------------------------------------------------
// Dockerfile
// ---------------------------------------------------------------------------------------------------------------

/// The instructions of a Dockerfile (continuations joined, comments dropped) as (INSTRUCTION, arguments).
fn dockerfile_instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if trimmed.starts_with('#') {
            continue; // a comment inside a continued instruction
        }
        if let Some(body) = trimmed.strip_suffix('\\') {
            current.push_str(body);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (instruction, args) = current
            .split_once(char::is_whitespace)
            .unwrap_or((current.as_str(), ""));
        out.push((instruction.to_ascii_uppercase(), args.trim().to_string()));
        current.clear();
    }
    out
}

#[test]
fn the_dockerfile_builds_in_one_stage_and_runs_unprivileged_with_a_health_check() {
    let file = "deploy/Dockerfile";
    let instructions = dockerfile_instructions(&read(file));
    let mut problems = Problems::default();
    let froms: Vec<usize> = instructions
        .iter()
        .enumerate()
        .filter(|(_, (i, _))| i == "FROM")
        .map(|(n, _)| n)
        .collect();
    problems.check(froms.len() >= 2, || {
        format!("{file}: want a multi-stage build (two FROM or more)")
    });
    let first_from = froms
        .first()
        .map(|&n| instructions[n].1.clone())
        .unwrap_or_default();
    problems.check(first_from.starts_with("rust:"), || {
        format!("{file}: the build stage must start FROM rust:…")
    });
    problems.check(
        instructions
            .iter()
            .any(|(i, a)| i == "RUN" && a.contains("cargo build --release -p gcbulk --locked")),
        || format!("{file}: the build must run `cargo build --release -p gcbulk --locked`"),
    );
    let last_stage: Vec<(String, String)> = froms
        .last()
        .map(|&n| instructions[n..].to_vec())
        .unwrap_or_default();
    let runtime_image = last_stage
        .first()
        .map(|(_, a)| a.clone())
        .unwrap_or_default();
    problems.check(!runtime_image.starts_with("rust:"), || {
        format!("{file}: the runtime stage must not be the rust toolchain image")
    });
    problems.check(
        last_stage
            .iter()
            .any(|(i, a)| i == "COPY" && a.contains("--from=")),
        || format!("{file}: the runtime stage must copy the binary from the build stage"),
    );
    let user = last_stage
        .iter()
        .rev()
        .find(|(i, _)| i == "USER")
        .map(|(_, a)| a.clone());
    match user {
        Some(user) => {
            let name = user.split(':').next().unwrap_or_default();
            problems.check(!matches!(name, "root" | "0" | ""), || {
                format!("{file}: USER {user} is root")
            });
        }
        None => problems.add(format!(
            "{file}: the runtime stage has no USER (it would run as root)"
        )),
    }
    let json_array = |instruction: &str| -> Vec<String> {
        last_stage
            .iter()
            .rev()
            .find(|(i, _)| i == instruction)
            .and_then(|(_, a)| serde_json::from_str::<Vec<String>>(a).ok())
            .unwrap_or_default()
    };
    problems.check(json_array("ENTRYPOINT") == ["gcbulk"], || {
        format!("{file}: want ENTRYPOINT [\"gcbulk\"]")
    });
    let cmd = json_array("CMD");
    problems.check(cmd.first().map(String::as_str) == Some("worker"), || {
        format!("{file}: want CMD [\"worker\", …] (exec form)")
    });
    check_command_line(&cmd, &format!("{file}: CMD"), &mut problems);
    let healthcheck = last_stage
        .iter()
        .find(|(i, _)| i == "HEALTHCHECK")
        .map(|(_, a)| a.clone());
    match (healthcheck, metrics_port(&cmd)) {
        (Some(check), Some(port)) => {
            problems.check(
                check.contains("/healthz") && check.contains(&port.to_string()),
                || {
                    format!(
                        "{file}: HEALTHCHECK must probe /healthz on the --metrics-addr port {port}"
                    )
                },
            );
            problems.check(
                last_stage.iter().any(|(i, a)| {
                    i == "EXPOSE"
                        && a.split_whitespace()
                            .any(|p| p.starts_with(&port.to_string()))
                }),
                || format!("{file}: EXPOSE the metrics port {port}"),
            );
        }
        (None, _) => problems.add(format!("{file}: no HEALTHCHECK in the runtime stage")),
        (_, None) => problems.add(format!(
            "{file}: CMD must pass --metrics-addr for the HEALTHCHECK to reach"
        )),
    }
    let dockerignore = fs::read_to_string(repo_root().join(".dockerignore")).unwrap_or_default();
    let ignored: BTreeSet<&str> = dockerignore
        .lines()
        .map(|l| l.trim().trim_start_matches('/'))
        .collect();
    for entry in ["target", ".git"] {
        problems.check(ignored.contains(entry), || {
            format!(".dockerignore must exclude {entry}")
        });
    }
    problems.assert_none("Dockerfile");
}

// ---------------------------------------------------------------------------------------------------------------
// systemd
// ---------------------------------------------------------------------------------------------------------------

/// A unit file as (section, key, value) triples; also returns lines that are neither.
fn systemd_entries(text: &str) -> (Vec<(String, String, String)>, Vec<String>) {
    let mut entries = Vec::new();
    let mut stray = Vec::new();
    let mut section = String::new();
    let mut pending = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if pending.is_empty()
            && (trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';'))
        {
            continue;
        }
        if let Some(body) = trimmed.strip_suffix('\\') {
            pending.push_str(body);
            pending.push(' ');
            continue;
        }
        pending.push_str(trimmed);
        let full = std::mem::take(&mut pending);
        if full.starts_with('[') && full.ends_with(']') {
            section = full[1..full.len() - 1].to_string();
        } else if let Some((key, value)) = full.split_once('=') {
            entries.push((
                section.clone(),
                key.trim().to_string(),
                value.trim().to_string(),
            ));
        } else {
            stray.push(full);
        }
    }
    (entries, stray)
}

/// A systemd time span (`45`, `45s`, `1min 30s`, `2m`) in seconds.
fn systemd_secs(text: &str) -> Option<f64> {
    let mut total = 0.0;
    for word in text.split_whitespace() {
        let split = word
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(word.len());
        let (number, unit) = word.split_at(split);
        let n: f64 = number.parse().ok()?;
        total += n * match unit {
            "" | "s" | "sec" | "second" | "seconds" => 1.0,
            "m" | "min" | "minute" | "minutes" => 60.0,
            "h" | "hr" | "hour" | "hours" => 3600.0,
            "ms" | "msec" => 0.001,
            _ => return None,
        };
    }
    Some(total)
}

#[test]
fn the_systemd_unit_drains_on_stop_restarts_on_failure_and_is_hardened() {
    let mut problems = Problems::default();
    let units = files_of(FileKind::SystemdUnit);
    problems.check(!units.is_empty(), || {
        "no systemd unit in deploy/systemd".into()
    });
    for file in units {
        let (entries, stray) = systemd_entries(&read(&file));
        for line in stray {
            problems.add(format!("{file}: not a Key=Value line: {line}"));
        }
        let sections: BTreeSet<&str> = entries.iter().map(|(s, _, _)| s.as_str()).collect();
        for section in ["Unit", "Service", "Install"] {
            problems.check(sections.contains(section), || {
                format!("{file}: no [{section}] section")
            });
        }
        let get = |section: &str, key: &str| -> Option<String> {
            entries
                .iter()
                .rev()
                .find(|(s, k, _)| s == section && k == key)
                .map(|(_, _, v)| v.clone())
        };
        let exec = get("Service", "ExecStart").unwrap_or_default();
        let argv: Vec<String> = exec
            .trim_start_matches(['-', '@', '+', '!', ':'])
            .split_whitespace()
            .map(str::to_string)
            .collect();
        problems.check(
            argv.first()
                .is_some_and(|p| p.starts_with('/') && p.ends_with("/gcbulk")),
            || format!("{file}: ExecStart must run gcbulk by absolute path"),
        );
        let args: Vec<String> = argv.iter().skip(1).cloned().collect();
        problems.check(subcommand_of(&args) == Some("worker"), || {
            format!("{file}: ExecStart must run `gcbulk worker`")
        });
        check_command_line(&args, &format!("{file}: ExecStart"), &mut problems);
        problems.check(
            get("Service", "KillSignal").as_deref() == Some("SIGTERM"),
            || format!("{file}: want KillSignal=SIGTERM (the worker drains on SIGTERM)"),
        );
        problems.check(
            get("Service", "Restart").as_deref() == Some("on-failure"),
            || format!("{file}: want Restart=on-failure"),
        );
        let grace = shutdown_grace(&args).unwrap_or(30) as f64;
        let stop = get("Service", "TimeoutStopSec").and_then(|v| systemd_secs(&v));
        problems.check(stop.is_some_and(|s| s > grace), || {
            format!("{file}: TimeoutStopSec must exceed --shutdown-grace {grace}s")
        });
        let unprivileged = get("Service", "DynamicUser").as_deref() == Some("yes")
            || get("Service", "User").is_some_and(|u| u != "root" && u != "0");
        problems.check(unprivileged, || {
            format!("{file}: run as DynamicUser=yes or a User= that is not root")
        });
        for (key, value) in [
            ("NoNewPrivileges", "yes"),
            ("ProtectSystem", "strict"),
            ("ProtectHome", "yes"),
            ("PrivateTmp", "yes"),
        ] {
            problems.check(get("Service", key).as_deref() == Some(value), || {
                format!("{file}: want {key}={value}")
            });
        }
        problems.check(get("Install", "WantedBy").is_some(), || {
            format!("{file}: [Install] needs WantedBy=")
        });
        // The env file it reads has an example next to it.
        if let Some(env_file) = get("Service", "EnvironmentFile") {
            let stem = file.trim_end_matches(".service");
            let example = format!("{stem}.env.example");
            problems.check(repo_root().join(&example).is_file(), || {
                format!("{file}: EnvironmentFile={env_file} has no example at {example}")
            });
        }
    }
    problems.assert_none("systemd unit");
}

/// Environment variables of the contract (and RUST_LOG).
const CONTRACT_ENV: [&str; 11] = [
    "GCBULK_REDIS_URL",
    "GCBULK_NAMESPACE",
    "GENESYS_CLIENT_ID",
    "GENESYS_CLIENT_SECRET",
    "GENESYS_REGION",
    "GENESYS_ENV",
    "GENESYS_API_URL",
    "GENESYS_LOGIN_URL",
    "GENESYS_EXTERNAL_ID_AUTHORITY",
    "GCBULK_LOG",
    "RUST_LOG",
];

#[test]
fn env_file_examples_set_only_contract_variables_and_hold_placeholders_for_secrets() {
    let mut problems = Problems::default();
    for file in files_of(FileKind::EnvFileExample) {
        for (n, line) in read(&file).lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            // A commented-out assignment is still documentation of a variable: check its name too.
            let assignment = line.trim_start_matches('#').trim();
            let Some((key, value)) = assignment.split_once('=') else {
                problems.check(line.starts_with('#'), || {
                    format!("{file}:{}: not KEY=VALUE", n + 1)
                });
                continue;
            };
            let is_name = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit());
            if !is_name {
                problems.check(line.starts_with('#'), || {
                    format!("{file}:{}: bad variable name {key:?}", n + 1)
                });
                continue;
            }
            problems.check(CONTRACT_ENV.contains(&key), || {
                format!("{file}:{}: {key} is not in the contract", n + 1)
            });
            if looks_sensitive_key(key) {
                problems.check(is_placeholder_text(value), || {
                    format!(
                        "{file}:{}: {key} must hold a <placeholder> in an example",
                        n + 1
                    )
                });
            }
        }
    }
    problems.assert_none("env file examples");
}

// ---------------------------------------------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn the_redis_config_keeps_the_queue_durable_and_never_evicts() {
    let mut problems = Problems::default();
    let confs = files_of(FileKind::RedisConf);
    problems.check(!confs.is_empty(), || "no redis.conf in deploy/redis".into());
    for file in confs {
        let mut directives: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (n, line) in read(&file).lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace();
            let directive = words.next().unwrap_or_default().to_ascii_lowercase();
            let args: Vec<String> = words.map(str::to_string).collect();
            problems.check(
                directive
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-')
                    && !args.is_empty(),
                || format!("{file}:{}: not a `directive value` line: {line}", n + 1),
            );
            // Passwords are documented in comments with placeholders, never set in a shipped config.
            problems.check(!matches!(directive.as_str(), "requirepass" | "masterauth" | "user"), || {
                format!("{file}:{}: {directive} sets a credential; leave it to the operator (comment it out)", n + 1)
            });
            directives.insert(directive, args);
        }
        for (directive, value) in [
            ("appendonly", "yes"),
            ("appendfsync", "everysec"),
            ("maxmemory-policy", "noeviction"),
        ] {
            problems.check(
                directives.get(directive).map(|a| a.join(" ")).as_deref() == Some(value),
                || format!("{file}: want `{directive} {value}`"),
            );
        }
    }
    problems.assert_none("redis.conf");
}

// ---------------------------------------------------------------------------------------------------------------
// CSV inputs kept in deploy/ (kustomize generator inputs)
// ---------------------------------------------------------------------------------------------------------------

/// The input columns of the contract.
const INPUT_COLUMNS: [&str; 20] = [
    "id",
    "external_id",
    "email",
    "name",
    "title",
    "department",
    "new_email",
    "phone_work",
    "phone_number",
    "extension",
    "manager",
    "email_manager",
    "state",
    "acd_auto_answer",
    "skills",
    "languages",
    "queues",
    "roles_divisions",
    "division",
    "location_work",
];

/// One CSV record per line (RFC 4180 quoting, no embedded newlines needed here).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

#[test]
fn csv_inputs_in_deploy_use_contract_columns_and_have_a_key() {
    let mut problems = Problems::default();
    for file in files_of(FileKind::KustomizeInputCsv) {
        let text = read(&file);
        let mut lines = text.lines();
        let header = csv_fields(lines.next().unwrap_or_default());
        for column in &header {
            problems.check(INPUT_COLUMNS.contains(&column.trim()), || {
                format!("{file}: unknown column {column:?}")
            });
        }
        problems.check(
            header
                .iter()
                .any(|c| matches!(c.as_str(), "id" | "external_id" | "email")),
            || format!("{file}: no key column (id, external_id or email)"),
        );
        for (n, line) in lines.enumerate() {
            problems.check(csv_fields(line).len() == header.len(), || {
                format!(
                    "{file}:{}: {} fields, the header has {}",
                    n + 2,
                    csv_fields(line).len(),
                    header.len()
                )
            });
        }
    }
    problems.assert_none("CSV inputs");
}

// ---------------------------------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------------------------------

/// Demo values that are public by design (the look-alike's built-in client).
const PUBLIC_DEMO_VALUES: [&str; 2] = ["gcbulk-demo", "gcbulk-demo-secret"];

/// A name that holds a secret: a password, a token, a client secret, a private key.
fn looks_sensitive_key(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace('-', "_");
    [
        "secret",
        "password",
        "passwd",
        "token",
        "api_key",
        "apikey",
        "private_key",
        "requirepass",
        "masterauth",
    ]
    .iter()
    .any(|w| name.contains(w))
}

/// A value that visibly stands for something to fill in, or refers to where the real value lives.
fn is_placeholder_text(value: &str) -> bool {
    let v = value.trim().trim_matches(|c| c == '"' || c == '\'');
    if v.is_empty() || PUBLIC_DEMO_VALUES.contains(&v) {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    (v.contains('<') && v.contains('>'))
        || v.starts_with('$')
        || lower.contains("replace")
        || lower.contains("change-me")
        || lower.contains("changeme")
        // A reference to an environment variable or a file, not a value.
        || v.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        || v.starts_with('/')
}

/// A boolean, a number or nothing (a YAML key opening a block): settings like `automountServiceAccountToken: false`.
fn is_plain_setting(value: &str) -> bool {
    let v = value.trim().trim_matches(|c| c == '"' || c == '\'');
    v.is_empty() || matches!(v, "true" | "false" | "yes" | "no") || v.parse::<f64>().is_ok()
}

/// Where a text seems to hold a real secret; one line per finding.
fn secret_findings(text: &str) -> Vec<String> {
    let mut findings = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let mut flag = |what: String| findings.push(format!("line {line_no}: {what}"));
        if line.contains("PRIVATE KEY-----") {
            flag("a PEM private key".into());
        }
        for token in line.split(|c: char| !(c.is_ascii_alphanumeric() || "+/=_-.".contains(c))) {
            let token = token.trim_matches(|c| c == '.' || c == '=' || c == '-' || c == '/');
            if let Some(kind) = known_token_shape(token) {
                flag(format!("something shaped like {kind}"));
            } else if looks_random(token) {
                flag(format!(
                    "a random-looking string of {} characters",
                    token.len()
                ));
            }
        }
        // user:password@ in a URL.
        for (start, _) in line.match_indices("://") {
            let rest = &line[start + 3..];
            let authority = rest.split(['/', ' ', '"', '\'']).next().unwrap_or_default();
            if let Some((credentials, _host)) = authority.rsplit_once('@')
                && let Some((_, password)) = credentials.split_once(':')
                && !is_placeholder_text(password)
            {
                flag("a password inside a URL".into());
            }
        }
        // NAME=value, NAME: value, `--flag=value` and `directive value` of secret-ish names.
        let content = line.trim().trim_start_matches(['#', '-', ' ']).trim();
        let pair = content
            .split_once('=')
            .filter(|(k, _)| !k.contains(' ') && !k.contains(':'))
            .or_else(|| content.split_once(": "))
            .or_else(|| {
                content
                    .split_once(' ')
                    .filter(|(k, _)| matches!(*k, "requirepass" | "masterauth"))
            });
        if let Some((key, value)) = pair {
            let key = key
                .trim()
                .trim_start_matches("--")
                .rsplit('=')
                .next()
                .unwrap_or_default();
            let value = value.split(" #").next().unwrap_or_default().trim();
            if looks_sensitive_key(key) && !is_placeholder_text(value) && !is_plain_setting(value) {
                flag(format!("{key} set to a value that is not a placeholder"));
            }
        }
        // Redis ACL passwords: `>password` in a `user` rule.
        if content.starts_with("user ") {
            for word in content.split_whitespace().filter(|w| w.starts_with('>')) {
                if !is_placeholder_text(&word[1..]) {
                    flag("a Redis ACL password".into());
                }
            }
        }
    }
    findings
}

/// Prefixes of well-known credential formats.
fn known_token_shape(token: &str) -> Option<&'static str> {
    let alnum_tail = |prefix: &str, min: usize| {
        token.strip_prefix(prefix).is_some_and(|t| {
            t.len() >= min && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    if (token.starts_with("AKIA") || token.starts_with("ASIA"))
        && token.len() == 20
        && token
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Some("an AWS access key id");
    }
    if ["ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"]
        .iter()
        .any(|p| alnum_tail(p, 20))
    {
        return Some("a GitHub token");
    }
    if ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-"]
        .iter()
        .any(|p| token.starts_with(p))
    {
        return Some("a Slack token");
    }
    if ["sk_live_", "rk_live_", "sk-", "glpat-"]
        .iter()
        .any(|p| alnum_tail(p, 20))
    {
        return Some("an API key");
    }
    if token.starts_with("AIza") && token.len() >= 35 {
        return Some("a Google API key");
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() == 3 && parts[0].starts_with("eyJ") && parts.iter().all(|p| p.len() >= 10) {
        return Some("a JWT (an access token)");
    }
    None
}

/// A long token mixing cases and digits with high entropy: how generated secrets look.
fn looks_random(token: &str) -> bool {
    if token.len() < 24 {
        return false;
    }
    let has = |f: fn(&char) -> bool| token.chars().any(|c| f(&c));
    if !(has(char::is_ascii_uppercase)
        && has(char::is_ascii_lowercase)
        && has(char::is_ascii_digit))
    {
        return false;
    }
    let mut counts: BTreeMap<char, usize> = BTreeMap::new();
    for c in token.chars() {
        *counts.entry(c).or_default() += 1;
    }
    let len = token.len() as f64;
    let entropy: f64 = counts
        .values()
        .map(|&n| {
            let p = n as f64 / len;
            -p * p.log2()
        })
        .sum();
    entropy >= 4.0
}

#[test]
fn no_shipped_file_holds_anything_like_a_real_secret() {
    let mut files = deploy_files();
    files.push(".dockerignore".into());
    files.extend(files_under("examples"));
    let mut problems = Problems::default();
    for file in files {
        for finding in secret_findings(&read(&file)) {
            problems.add(format!("{file}: {finding}"));
        }
    }
    problems.assert_none("possible secrets in shipped files");
}

#[test]
fn the_secret_scan_recognises_secrets_and_lets_placeholders_pass() {
    // Built at run time so that this source file itself holds no secret-shaped literal.
    let random = ["Zx81Qw", "Tr5Vb2", "Lk9PmN", "c3Hd7Y", "eR4uJ6"].concat();
    let leaks = [
        format!("aws_key: {}{}", "AK", "IAQ3EGRT7LNW2XK4PV"),
        format!("token = {}{}", "ghp_", "a".repeat(36)),
        format!("url: rediss://default:{random}@redis:6379"),
        format!("GENESYS_CLIENT_SECRET={random}"),
        format!("client-secret: \"{random}\""),
        format!("value: {random}"),
        format!("requirepass {}", "hunter2hunter2"),
        format!("user gcbulk on >{} ~{{gcbulk}}:*", "s3cretpw"),
        format!("-----BEGIN RSA {}-----", "PRIVATE KEY"),
        format!(
            "Authorization: Bearer {}.{}.{}",
            "eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiIxMjM0NTY3ODkwIn0", "c2lnbmF0dXJlX3ZhbHVl"
        ),
    ];
    for leak in &leaks {
        assert!(!secret_findings(leak).is_empty(), "the scan misses: {leak}");
    }
    let fine = [
        "GENESYS_CLIENT_SECRET=<oauth-client-secret>",
        "GENESYS_CLIENT_SECRET: gcbulk-demo-secret",
        "client-secret: \"<oauth-client-secret>\"",
        "url: \"rediss://default:<redis-password>@redis.gcbulk.svc.cluster.local:6379\"",
        "passwordFromEnv: REDIS_PASSWORD",
        "- name: GENESYS_CLIENT_SECRET",
        "#   requirepass <password>",
        "#   user gcbulk on ><password> ~{gcbulk}:* resetchannels -@all +@read",
        "GCBULK_REDIS_URL=redis://127.0.0.1:6379",
        "--from-literal=client-secret=\"$GENESYS_CLIENT_SECRET\"",
        "id: 00000000-0000-4000-8000-000000000042",
        "terminationGracePeriodSeconds: 45",
        "tls-key-file /etc/redis/tls/redis.key",
    ];
    for line in fine {
        assert!(
            secret_findings(line).is_empty(),
            "a false alarm on {line:?}: {:?}",
            secret_findings(line)
        );
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The example inputs, through the real binary
// ---------------------------------------------------------------------------------------------------------------

/// The gcbulk binary: `GCBULK_BIN` (set by `make test`, then it must exist), else a build in target/.
fn gcbulk_binary() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("GCBULK_BIN") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "GCBULK_BIN={} does not exist",
            path.display()
        );
        return Some(path);
    }
    ["release", "debug"]
        .iter()
        .map(|profile| repo_root().join("target").join(profile).join("gcbulk"))
        .find(|p| p.is_file())
}

#[test]
fn every_example_input_passes_enqueue_dry_run() {
    let Some(bin) = gcbulk_binary() else {
        eprintln!(
            "skipped: no gcbulk binary (make test builds it; or cargo build --release -p gcbulk)"
        );
        return;
    };
    let mut inputs = files_under("examples");
    inputs.retain(|f| f.ends_with(".csv") || f.ends_with(".jsonl"));
    inputs.extend(files_of(FileKind::KustomizeInputCsv));
    assert!(
        inputs.len() >= 4,
        "expected the example inputs, found {inputs:?}"
    );
    let namespace = format!(
        "t-examples-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let redis_url =
        std::env::var("GCBULK_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let mut problems = Problems::default();
    for input in inputs {
        let output = Command::new(&bin)
            .current_dir(repo_root())
            .args(["enqueue", &input, "--dry-run"])
            .env("GCBULK_REDIS_URL", &redis_url)
            .env("GCBULK_NAMESPACE", &namespace)
            .env("GENESYS_EXTERNAL_ID_AUTHORITY", "gcbulk-demo")
            .output()
            .unwrap();
        problems.check(output.status.success(), || {
            format!(
                "{input}: `gcbulk enqueue --dry-run` exited {:?}:\n{}",
                output.status.code(),
                String::from_utf8_lossy(&output.stderr)
            )
        });
    }
    problems.assert_none("example inputs rejected by enqueue");
}

// ---------------------------------------------------------------------------------------------------------------
// The checkers' own edge cases
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn command_line_checks_catch_unknown_flags_and_missing_values() {
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut problems = Problems::default();
    check_command_line(
        &args(&[
            "worker",
            "--metrics-addr",
            "0.0.0.0:9464",
            "--shutdown-grace=30",
        ]),
        "ok",
        &mut problems,
    );
    check_command_line(
        &args(&[
            "--namespace",
            "x",
            "enqueue",
            "f.csv",
            "--dry-run",
            "--json",
        ]),
        "ok",
        &mut problems,
    );
    assert!(problems.0.is_empty(), "{:?}", problems.0);
    for bad in [
        args(&["worker", "--metrics-address", "0.0.0.0:9464"]),
        args(&["worker", "--rate-limit"]),
        args(&["wrker"]),
        args(&["enqueue", "f.csv", "--exit-when-idle"]),
    ] {
        let mut problems = Problems::default();
        check_command_line(&bad, "bad", &mut problems);
        assert!(!problems.0.is_empty(), "not caught: {bad:?}");
    }
    assert_eq!(shutdown_grace(&args(&["worker"])), Ok(30));
    assert_eq!(
        shutdown_grace(&args(&["worker", "--shutdown-grace", "40"])),
        Ok(40)
    );
    assert_eq!(
        metrics_port(&args(&["worker", "--metrics-addr=[::]:9100"])),
        Some(9100)
    );
    assert_eq!(compose_duration_secs("1m30s"), Some(90.0));
    assert_eq!(systemd_secs("1min 30s"), Some(90.0));
    assert_eq!(classify("deploy/k8s/new-thing.json"), None);
    assert_eq!(classify("deploy/notes.txt"), None);
}
