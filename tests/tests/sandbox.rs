//! Misbehaving guests are contained: a guest that loops, hogs memory, traps
//! or reaches for the file system or the network costs only the records it
//! misbehaves on, and the host carries on.

use std::time::{Duration, Instant};

use floe::plugin::{Limits, StageSettings, TransformStage};
use floe_tests::{customer_changes, id_of, registry_with, test_guest_path};

fn stage(
    guest: &str,
    config: &[(&str, &str)],
    limits: Limits,
) -> (tempfile::TempDir, TransformStage) {
    let (dir, registry) = registry_with(&[(guest, test_guest_path(guest))]);
    let settings = StageSettings {
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        limits,
        grants: Default::default(),
    };
    let stage = TransformStage::new(registry, guest, settings).expect("stage");
    (dir, stage)
}

fn ids(changes: &floe::change::ChangeBatch) -> Vec<i64> {
    changes.to_changes().iter().map(id_of).collect()
}

#[test]
fn a_trap_rejects_only_the_poisoned_records_with_the_panic_message() {
    let (_dir, mut stage) = stage("trap", &[("trap_on", "3,8")], Limits::default());
    let output = stage.apply(customer_changes(1..=10));
    assert_eq!(ids(&output.changes), vec![1, 2, 4, 5, 6, 7, 9, 10]);
    let rejected: Vec<i64> = output.rejected.iter().map(|r| id_of(&r.change)).collect();
    assert_eq!(rejected, vec![3, 8]);
    for r in &output.rejected {
        let id = id_of(&r.change);
        assert!(
            r.reason.contains(&format!("poisoned record id={id}")),
            "reason: {}",
            r.reason
        );
        assert!(
            r.reason.contains(&output.plugin.to_string()),
            "reason names the plugin and version: {}",
            r.reason
        );
    }
    // The stage goes on with a healthy instance.
    let next = stage.apply(customer_changes(11..=20));
    assert_eq!(next.changes.len(), 10);
    assert!(next.rejected.is_empty());
}

#[test]
fn an_endless_loop_is_cut_at_the_deadline() {
    let limits = Limits {
        deadline: Duration::from_millis(200),
        ..Limits::default()
    };
    let (_dir, mut stage) = stage("spin", &[("spin_on", "5")], limits);
    let started = Instant::now();
    let output = stage.apply(customer_changes(1..=8));
    let took = started.elapsed();
    assert_eq!(ids(&output.changes), vec![1, 2, 3, 4, 6, 7, 8]);
    assert_eq!(output.rejected.len(), 1);
    assert_eq!(id_of(&output.rejected[0].change), 5);
    assert!(
        output.rejected[0].reason.contains("deadline"),
        "{}",
        output.rejected[0].reason
    );
    // One deadline for the batch, one for the record alone; no more.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(stage.apply(customer_changes(9..=12)).changes.len(), 4);
}

#[test]
fn a_memory_hog_hits_its_cap_and_only_its_record_is_rejected() {
    let limits = Limits {
        memory_bytes: 16 << 20,
        ..Limits::default()
    };
    let (_dir, mut stage) = stage("hog", &[("hog_on", "4")], limits);
    let output = stage.apply(customer_changes(1..=6));
    assert_eq!(ids(&output.changes), vec![1, 2, 3, 5, 6]);
    assert_eq!(output.rejected.len(), 1);
    assert_eq!(id_of(&output.rejected[0].change), 4);
    assert!(
        output.rejected[0].reason.contains("memory"),
        "{}",
        output.rejected[0].reason
    );
    assert_eq!(stage.apply(customer_changes(7..=9)).changes.len(), 3);
}

#[test]
fn files_sockets_and_environment_are_out_of_reach() {
    let (_dir, mut stage) = stage("escape", &[], Limits::default());
    let output = stage.apply(customer_changes(1..=2));
    assert_eq!(
        output.rejected.len(),
        2,
        "the escape guest reports by rejecting"
    );
    assert!(
        !std::path::Path::new("/tmp/floe-escape").exists(),
        "the guest wrote a host file"
    );
    let reason = &output.rejected[0].reason;
    assert!(reason.contains("fs_read=denied"), "{reason}");
    assert!(reason.contains("fs_write=denied"), "{reason}");
    assert!(!reason.contains("ALLOWED"), "{reason}");
    assert!(reason.contains("net=denied"), "{reason}");
    assert!(reason.contains("env=0"), "{reason}");
}
