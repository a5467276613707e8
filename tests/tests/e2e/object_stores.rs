//! The production storage path: the trainer reads and writes the lake and the models store over
//! the S3 protocol (as it does with R2), against a real S3 server started by the test.

use std::process::Command;

use tests::s3::S3Server;
use tests::{fixture, run, trainer};

fn trainer_s3(server: &S3Server, args: &[&str]) -> String {
    let mut cmd: Command = trainer(args).unwrap();
    for (k, v) in server.env() {
        cmd.env(k, v);
    }
    String::from_utf8_lossy(&run(&mut cmd).unwrap().stdout).into_owned()
}

#[test]
fn trainer_pipeline_runs_on_s3() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s3");
    let server = S3Server::start(
        &root,
        &[
            "vitrine-lake",
            "vitrine-models",
            "restored-lake",
            "restored-models",
        ],
    )
    .unwrap();
    let csv = fixture("rees46-sample.csv");
    let artifact = dir.path().join("model.bin");
    let artifact = artifact.to_str().unwrap();

    trainer_s3(
        &server,
        &[
            "import",
            "rees46",
            csv.to_str().unwrap(),
            "--lake",
            "s3://vitrine-lake",
        ],
    );
    trainer_s3(&server, &["compact", "--lake", "s3://vitrine-lake"]);
    trainer_s3(
        &server,
        &[
            "train",
            "--lake",
            "s3://vitrine-lake",
            "--models",
            "s3://vitrine-models",
            "--out",
            artifact,
        ],
    );
    trainer_s3(
        &server,
        &[
            "publish",
            "--artifact",
            artifact,
            "--models",
            "s3://vitrine-models",
        ],
    );

    trainer_s3(&server, &["kpis", "--lake", "s3://vitrine-lake"]);

    // The objects are really in the server's buckets.
    let kpi = root.join("vitrine-lake/tables/kpi/daily_sales/dt=2019-10-01/part-0.parquet");
    assert_eq!(
        &std::fs::read(&kpi).unwrap()[..4],
        b"PAR1",
        "{}",
        kpi.display()
    );
    let table = root.join("vitrine-lake/tables/events/dt=2019-10-01/part-0.parquet");
    let bytes = std::fs::read(&table).unwrap();
    assert_eq!(&bytes[..4], b"PAR1", "{} is not Parquet", table.display());
    let latest = std::fs::read(root.join("vitrine-models/models/latest.json")).unwrap();
    let manifest = shared::Manifest::parse(&latest).unwrap();
    let model = std::fs::read(root.join("vitrine-models").join(&manifest.artifact)).unwrap();
    assert_eq!(model.len() as u64, manifest.size);
    let model = shared::Model::load(model).unwrap();
    assert!(model.n_items() > 100, "only {} items", model.n_items());

    // Backup to another store (a directory), incrementally; restore into empty buckets.
    let backup = tests::file_url(&dir.path().join("backup"));
    let lake_models = [
        "--lake",
        "s3://vitrine-lake",
        "--models",
        "s3://vitrine-models",
    ];
    let first: serde_json::Value = serde_json::from_str(&trainer_s3(
        &server,
        &[&["backup", "--to", &backup][..], &lake_models[..]].concat(),
    ))
    .unwrap();
    assert!(first["copied"].as_u64().unwrap() > 20, "{first}");
    assert_eq!(
        first["live_model"].as_str(),
        Some(manifest.version.as_str())
    );
    let second: serde_json::Value = serde_json::from_str(&trainer_s3(
        &server,
        &[&["backup", "--to", &backup][..], &lake_models[..]].concat(),
    ))
    .unwrap();
    assert_eq!(
        (
            second["copied"].as_u64(),
            second["versions_pruned"].as_u64()
        ),
        (Some(0), Some(0)),
        "{second}"
    );
    let restored = [
        "--lake",
        "s3://restored-lake",
        "--models",
        "s3://restored-models",
    ];
    let r: serde_json::Value = serde_json::from_str(&trainer_s3(
        &server,
        &[&["restore", "--from", &backup][..], &restored[..]].concat(),
    ))
    .unwrap();
    assert_eq!(
        r["live_model"].as_str(),
        Some(manifest.version.as_str()),
        "{r}"
    );
    // Every object is back, byte for byte: KPI tables, events, the live model and its pointer.
    let files = |bucket: &str| -> Vec<(String, Vec<u8>)> {
        let base = root.join(bucket);
        let mut out = Vec::new();
        let mut stack = vec![base.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                let name = p.strip_prefix(&base).unwrap().display().to_string();
                if p.is_dir() {
                    stack.push(p);
                } else if !name.contains(".s3s") {
                    out.push((name, std::fs::read(&p).unwrap()));
                }
            }
        }
        out.sort();
        out
    };
    let (orig, back) = (files("vitrine-lake"), files("restored-lake"));
    assert!(
        orig.iter()
            .any(|(k, _)| k.starts_with("tables/kpi/daily_sales/"))
    );
    assert_eq!(orig.len(), back.len());
    assert!(orig == back, "restored lake differs");
    assert!(
        files("vitrine-models") == files("restored-models"),
        "restored models differ"
    );
    // The restored lake computes the same KPI tables again.
    trainer_s3(&server, &["kpis", "--lake", "s3://restored-lake"]);
    let daily = |bucket: &str| {
        std::fs::read(
            root.join(bucket)
                .join("tables/kpi/daily_sales/dt=2019-10-01/part-0.parquet"),
        )
        .unwrap()
    };
    assert_eq!(daily("vitrine-lake"), daily("restored-lake"));
    // Restoring over data is refused.
    let mut cmd = trainer(&[&["restore", "--from", &backup][..], &restored[..]].concat()).unwrap();
    for (k, v) in server.env() {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not empty"));

    // Bad credentials are a clear failure, not a silent success.
    let mut cmd = trainer(&["compact", "--lake", "s3://vitrine-lake"]).unwrap();
    for (k, v) in server.env() {
        cmd.env(
            k,
            if k == "AWS_SECRET_ACCESS_KEY" {
                "wrong".to_owned()
            } else {
                v
            },
        );
    }
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    assert!(!out.stderr.is_empty());
}
