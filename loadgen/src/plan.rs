//! The plan the seeder writes and the runner reads: every seeded device with its token and
//! signing key, its worker, and (for field workers) its households. It holds live device tokens
//! of the seeded database, so it is written readable by its owner only.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use madadkar_schema::authorship::{DeviceKey, SECRET_KEY_BYTES, from_hex};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::synth::Author;

/// The plan's format; a runner refuses another.
pub const FORMAT: u32 = 1;

/// An enrolled device the runner acts as.
#[derive(Clone, Serialize, Deserialize)]
pub struct Device {
    pub device_id: Uuid,
    /// The bearer token (the database holds only its hash).
    pub token: String,
    pub worker_id: String,
    pub worker_name: String,
    /// The device's Ed25519 secret key, hex: it signs the device's changes as a client does.
    pub signing_secret: String,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the token nor the key is printed.
        f.debug_struct("Device")
            .field("device_id", &self.device_id)
            .field("worker_id", &self.worker_id)
            .finish_non_exhaustive()
    }
}

impl Device {
    pub fn author(&self) -> Author {
        Author {
            device: self.device_id,
            worker_id: self.worker_id.clone(),
            worker_name: self.worker_name.clone(),
        }
    }

    pub fn key(&self) -> Result<DeviceKey> {
        let secret = from_hex::<SECRET_KEY_BYTES>(&self.signing_secret).with_context(|| {
            format!(
                "device {}: signing_secret is not {SECRET_KEY_BYTES} bytes of hex",
                self.device_id
            )
        })?;
        Ok(DeviceKey::from_secret(&secret))
    }
}

/// A field worker's device and caseload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldWorker {
    pub device: Device,
    pub group: String,
    pub households: Vec<Uuid>,
}

/// A group and its supervisor's device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupPlan {
    pub id: String,
    pub supervisor: Device,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub format: u32,
    pub seed: u64,
    /// Households seeded.
    pub households: u64,
    /// The log's last sequence number when seeding ended: a pull from here finds the head
    /// without scanning the seeded log.
    pub head_seq: u64,
    pub coordinator: Device,
    pub groups: Vec<GroupPlan>,
    pub workers: Vec<FieldWorker>,
}

impl Plan {
    pub fn supervisor_of(&self, group: &str) -> Result<&Device> {
        self.groups
            .iter()
            .find(|g| g.id == group)
            .map(|g| &g.supervisor)
            .with_context(|| format!("the plan has no group {group:?}"))
    }

    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let plan: Self = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a load plan", path.display()))?;
        if plan.format != FORMAT {
            bail!(
                "{} is a plan of format {}; this runner reads format {FORMAT}",
                path.display(),
                plan.format
            );
        }
        if let Some(w) = plan.workers.iter().find(|w| w.households.is_empty()) {
            bail!(
                "worker {} has no household in the plan (seed at least as many households as workers)",
                w.device.worker_id
            );
        }
        Ok(plan)
    }

    /// Writes the plan readable by its owner only (it holds device tokens).
    pub fn write(&self, path: &Path) -> Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        let mut out = std::io::BufWriter::new(&mut file);
        serde_json::to_writer(&mut out, self)?;
        out.flush()?;
        Ok(())
    }
}
