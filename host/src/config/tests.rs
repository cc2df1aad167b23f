//! Loading and checking pipeline configurations.

use super::*;
use crate::decode::{NumericTime, TimeUnit};

const EXAMPLE: &str = r#"
pipeline = "orders-cdc"
[catalog]
kind = "sql"
uri = "sqlite://warehouse/catalog.db"
warehouse = "warehouse"
[source]
kind = "file"
path = "events.jsonl"
topic = "dbserver1.inventory.customers"
[commit]
interval_ms = 1000
max_records = 100000
[dlq]
path = "dlq"
[[tables]]
topics = ["dbserver1.inventory.customers"]
table = "inventory.customers"
key = ["id"]
partition_by = ["region", "day(created_at)", "bucket(16, id)"]
create = true
[[tables]]
topic_pattern = "dbserver1\\.inventory\\.order.*"
table = "inventory.orders"
"#;

#[test]
fn the_documented_example_loads_and_routes() {
    let config = PipelineConfig::parse(EXAMPLE).unwrap();
    config.validate().unwrap();
    assert_eq!(config.catalog.name, "floe");
    assert_eq!(
        config.tables[0].identifier(),
        (vec!["inventory".to_string()], "customers".to_string())
    );
    let router = config.router();
    assert_eq!(router.tables_for("dbserver1.inventory.customers"), vec![0]);
    assert_eq!(router.tables_for("dbserver1.inventory.orders"), vec![1]);
    assert_eq!(router.tables_for("dbserver1.inventory.orders_v2"), vec![1]);
    assert!(
        router.tables_for("xdbserver1.inventory.orders").is_empty(),
        "patterns match whole names"
    );
}

#[test]
fn relative_paths_are_taken_from_the_config_folder() {
    let dir = std::env::temp_dir().join(format!("floe-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("pipeline.toml");
    std::fs::write(&file, EXAMPLE).unwrap();
    let config = PipelineConfig::load(&file).unwrap();
    assert_eq!(
        config.catalog.uri,
        format!("sqlite://{}", dir.join("warehouse/catalog.db").display())
    );
    assert_eq!(config.dlq.path, dir.join("dlq"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn mistakes_are_named() {
    let cases = [
        (
            EXAMPLE.replace("interval_ms", "intervall_ms"),
            "unknown field `intervall_ms`",
        ),
        (
            EXAMPLE.replace("pipeline = \"orders-cdc\"", ""),
            "missing field `pipeline`",
        ),
        (EXAMPLE.replace("order.*", "order(.*"), "topic_pattern"),
        (
            EXAMPLE.replace("table = \"inventory.orders\"", "table = \"orders\""),
            "namespace.name",
        ),
        (EXAMPLE.replace("sqlite://", "mysql://"), "catalog.uri"),
        (
            EXAMPLE.replace("kind = \"file\"", "kind = \"ftp\""),
            "unknown variant `ftp`",
        ),
        (
            EXAMPLE.replace(
                "create = true",
                "create = true\ntypes = { id = \"varchar\" }",
            ),
            "types.id",
        ),
        (
            EXAMPLE.replace(
                "create = true",
                "create = true\ntransforms = [{ plugin = \"mask\" }]",
            ),
            "[plugins] dir",
        ),
        (
            EXAMPLE.replace("create = true", "create = true\nnumeric_time = \"secs\""),
            "unknown time unit `secs`: expected \"auto\", \"millis\", \"micros\" or \"nanos\"",
        ),
        (
            EXAMPLE.replace(
                "create = true",
                "create = true\nnumeric_time_columns = { created_at = \"ms\" }",
            ),
            "unknown time unit `ms`",
        ),
        (
            EXAMPLE.replace(
                "create = true",
                "create = true\ntypes = { born = \"date\" }\nnumeric_time_columns = { born = \"millis\" }",
            ),
            "numeric_time_columns.born: `types` makes it date",
        ),
    ];
    for (text, wanted) in cases {
        let error = match PipelineConfig::parse(&text) {
            Err(message) => message,
            Ok(config) => config.validate().unwrap_err(),
        };
        assert!(error.contains(wanted), "wanted `{wanted}` in `{error}`");
    }
}

#[test]
fn a_kafka_member_is_static_and_named_after_the_pipeline_and_the_instance() {
    let kafka = EXAMPLE.replace(
        "kind = \"file\"\npath = \"events.jsonl\"\ntopic = \"dbserver1.inventory.customers\"",
        "kind = \"kafka\"\nbrokers = \"localhost:9092\"",
    );
    let id = |text: &str| {
        let config = PipelineConfig::parse(text).unwrap();
        config.validate().and(config.group_instance_id())
    };
    let host = whoami::fallible::hostname().unwrap();
    assert_eq!(id(&kafka), Ok(Some(format!("orders-cdc-{host}"))));
    let named = kafka.replace("brokers =", "instance = \"worker-2\"\nbrokers =");
    assert_eq!(id(&named), Ok(Some("orders-cdc-worker-2".into())));
    let mut config = PipelineConfig::parse(&named).unwrap();
    config.set_instance("worker-3").unwrap();
    assert_eq!(
        config.group_instance_id(),
        Ok(Some("orders-cdc-worker-3".into())),
        "`floe run --instance` wins over `[source] instance`"
    );
    let own = named.replace(
        "[commit]",
        "[source.properties]\n\"group.instance.id\" = \"mine\"\n[commit]",
    );
    assert_eq!(id(&own), Ok(Some("mine".into())), "an explicit id wins");
    let error = config.set_instance("worker 3").unwrap_err();
    assert!(error.contains("`orders-cdc-worker 3`"), "{error}");
    let error = id(&named.replace("worker-2", "")).unwrap_err();
    assert!(error.contains("choose another instance name"), "{error}");
    assert_eq!(id(EXAMPLE), Ok(None), "a file source has no group");
}

#[test]
fn plugin_steps_become_stage_settings() {
    let text = EXAMPLE.replace(
        "create = true",
        "create = true\ntransforms = [{ plugin = \"mask\", config = { columns = \"email\", rounds = 3 }, memory_mib = 16, grants = { clocks = true } }]",
    ) + "[plugins]\ndir = \"plugins\"\n";
    let config = PipelineConfig::parse(&text).unwrap();
    config.validate().unwrap();
    let settings = config.tables[0].transforms[0].stage_settings();
    assert_eq!(settings.config.get("rounds").map(String::as_str), Some("3"));
    assert_eq!(settings.limits.memory_bytes, 16 << 20);
    assert!(settings.grants.clocks && !settings.grants.network);
}

#[test]
fn numeric_time_per_table_and_column() {
    let config = PipelineConfig::parse(EXAMPLE).unwrap();
    assert_eq!(
        config.tables[0].numeric_time,
        NumericTime::Auto,
        "the default"
    );
    assert!(config.tables[0].numeric_time_columns.is_empty());
    let text = EXAMPLE.replace(
        "create = true",
        "create = true\nnumeric_time = \"millis\"\ntypes = { created_at = \"timestamp\" }\nnumeric_time_columns = { created_at = \"micros\", opens = \"nanos\" }",
    );
    let config = PipelineConfig::parse(&text).unwrap();
    config.validate().unwrap();
    let table = &config.tables[0];
    assert_eq!(table.numeric_time, NumericTime::Fixed(TimeUnit::Millis));
    assert_eq!(
        table.numeric_time_columns.get("created_at"),
        Some(&NumericTime::Fixed(TimeUnit::Micros))
    );
    assert_eq!(
        table.numeric_time_columns.get("opens"),
        Some(&NumericTime::Fixed(TimeUnit::Nanos))
    );
}
