//! `hersys outbox`: what the local outbox would have sent. A developer tool: recipients are shown in full.

use std::path::Path;

use anyhow::Context;

pub fn run(data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let db = crate::setup::existing_store(data_dir)?;
    let outbox = embedded::Outbox::open(&db).context("opening the outbox")?;
    for m in outbox.messages()? {
        let channel = m.channel.as_str();
        let at = m.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        if json {
            let line = serde_json::json!({
                "id": m.id, "time": at, "channel": channel,
                "recipient": m.recipient, "subject": m.subject, "text": m.body,
            });
            println!("{line}");
        } else {
            // One line per message: line breaks in the text are shown as \n.
            println!("{at}\t{channel}\t{}\t{}", m.recipient, m.body.replace('\n', "\\n"));
        }
    }
    Ok(())
}
