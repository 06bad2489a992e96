//! The history table on a real server: the newest applied version read without holding the
//! history agrees with the one the whole history gives.

use shale_pg::{connect, ConnectionSettings, HistoryTable, SessionSettings};
use shale_testkit::fresh_database;

#[tokio::test(flavor = "current_thread")]
async fn the_current_version_read_alone_is_the_one_the_whole_history_gives() {
    let db = fresh_database("history_current");
    let settings = ConnectionSettings::parse(&db).unwrap();
    let client = connect(&settings, &SessionSettings::default()).await.unwrap();
    let table = HistoryTable::default();

    // No table yet: nothing is applied.
    assert_eq!(table.current_version(&client).await.unwrap(), None);
    table.create(&client, None).await.unwrap();
    assert_eq!(table.current_version(&client).await.unwrap(), None);

    // Rows in the order they were written (ids ascending): the newest row of each version
    // decides; versions compare as numbers (11 > 9, which text would not say); audit and
    // repeatable rows are not versions; a baseline counts.
    let rows = [
        ("1", "versioned", "succeeded"),
        ("9", "versioned", "succeeded"),
        ("11", "versioned", "succeeded"),
        ("12", "versioned", "succeeded"),
        ("12", "versioned", "rolled_back"),
        ("13", "versioned", "failed"),
        ("3", "repair", "succeeded"),
        ("4", "adopted", "succeeded"),
        ("99", "audit", "succeeded"),
        ("", "repeatable", "succeeded"),
        ("5", "baseline", "succeeded"),
        ("50", "baseline", "failed"),
    ];
    let values: Vec<String> = rows
        .iter()
        .map(|(version, kind, status)| format!("('{version}', 'm', '{kind}', '{status}', 'test')"))
        .collect();
    client
        .batch_execute(&format!(
            "INSERT INTO {} (version, name, kind, status, shale_version) VALUES {}",
            table.name(),
            values.join(", ")
        ))
        .await
        .unwrap();
    let whole = table.load(&client, false).await.unwrap().unwrap().current_version();
    let alone = table.current_version(&client).await.unwrap();
    assert_eq!(alone, whole);
    assert_eq!(alone.map(|v| v.canonical()).as_deref(), Some("11"));

    // A newer baseline above every version is the current version, as the history says.
    client
        .batch_execute(&format!(
            "INSERT INTO {} (version, name, kind, status, shale_version) VALUES ('20', 'b', 'baseline', 'succeeded', 'test')",
            table.name()
        ))
        .await
        .unwrap();
    let whole = table.load(&client, false).await.unwrap().unwrap().current_version();
    assert_eq!(table.current_version(&client).await.unwrap(), whole);
    assert_eq!(whole.map(|v| v.canonical()).as_deref(), Some("20"));
}
