//! The trust sets `probe` verifies a chain against: the OS store first (next steps refer
//! to it), then every runtime's effective set as `status` computed it.

use crate::commands::probe::TrustSetInput;
use crate::commands::status::Status;

pub fn trust_sets(status: &Status) -> Vec<TrustSetInput> {
    let mut sets = vec![TrustSetInput {
        label: "OS store".into(),
        roots: status.os.trusted.iter().map(|c| c.der.clone()).collect(),
    }];
    // Variables are already reflected in the runtimes that read them.
    for d in status
        .diagnoses
        .iter()
        .filter(|d| !d.runtime.kind.is_variable())
    {
        sets.push(TrustSetInput {
            label: format!("{} {}", d.runtime.kind.as_str(), d.runtime.label),
            roots: d.trusted.iter().map(|c| c.der.clone()).collect(),
        });
    }
    sets
}
