//! Helpers for the end-to-end tests: the real `madadkar-server` binary on a free loopback port
//! with a temporary data directory, and client replicas on real SQLite files.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use madadkar_client::{Passphrase, Store};
use madadkar_schema::{NationalId, NewHousehold, NewMember, Relation};
use serde_json::Value;
use tempfile::TempDir;
use uuid::Uuid;

/// The directory holding the workspace's built binaries (`target/debug` or `target/release`),
/// found from the running test executable (`target/<profile>/deps/<test>`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let deps = exe.parent().map(PathBuf::from).unwrap_or_default();
    if deps.ends_with("deps") {
        deps.parent().map(PathBuf::from).unwrap_or(deps)
    } else {
        deps
    }
}

/// The passphrase of every test replica's store (the crash writer takes it from
/// `MADADKAR_PASSPHRASE`, like the CLI).
pub const PASSPHRASE: &str = "e2e test passphrase";
/// The passphrase of the bundles test replicas exchange.
pub const BUNDLE_PASSPHRASE: &str = "e2e bundle passphrase";

pub fn passphrase() -> Passphrase {
    Passphrase::new(PASSPHRASE)
}

pub fn bundle_passphrase() -> Passphrase {
    Passphrase::new(BUNDLE_PASSPHRASE)
}

/// A running `madadkar-server`, killed when dropped.
#[derive(Debug)]
pub struct Server {
    pub dir: TempDir,
    pub url: String,
    child: Option<Child>,
    /// A PostgreSQL database (`--database`); `None`: the SQLite file in `dir`.
    database: Option<String>,
}

impl Server {
    /// Starts a server on a fresh data directory.
    pub fn start() -> Result<Self> {
        Self::start_on(None)
    }

    /// Starts a server on the PostgreSQL database at `url`.
    pub fn start_postgres(url: &str) -> Result<Self> {
        Self::start_on(Some(url.to_string()))
    }

    fn start_on(database: Option<String>) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut server = Self {
            dir,
            url: String::new(),
            child: None,
            database,
        };
        server.restart()?;
        Ok(server)
    }

    /// Another instance serving the same PostgreSQL database, on its own port.
    pub fn another_instance(&self) -> Result<Self> {
        let database = self
            .database
            .clone()
            .context("only servers on PostgreSQL share their database")?;
        Self::start_on(Some(database))
    }

    /// The binary with this server's data directory and database.
    fn command(&self) -> Command {
        let mut command = Command::new(Self::binary());
        command.arg("--data-dir").arg(self.dir.path());
        if let Some(url) = &self.database {
            command.arg("--database").arg(url);
        }
        command
    }

    /// Writes a settings file and restarts with it.
    pub fn with_settings(&mut self, settings: &Value) -> Result<()> {
        std::fs::write(self.dir.path().join("settings.json"), settings.to_string())?;
        self.restart()
    }

    fn binary() -> PathBuf {
        bin_dir().join("madadkar-server")
    }

    /// (Re)starts the server process on the same data directory and a new free port.
    pub fn restart(&mut self) -> Result<()> {
        self.kill();
        let mut command = self.command();
        let settings = self.dir.path().join("settings.json");
        if settings.exists() {
            command.arg("--config").arg(&settings);
        }
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("MADADKAR_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", Self::binary().display()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            bail!("server did not start: {line:?}");
        };
        self.url = url.to_string();
        self.child = Some(child);
        Ok(())
    }

    /// The server's process id, for reading its memory use.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the process at once (SIGKILL), as a crash or power cut would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Runs an administration command and returns its JSON output.
    pub fn admin(&self, args: &[&str]) -> Result<Value> {
        let out = self.command().arg("--json").args(args).output()?;
        if !out.status.success() {
            bail!(
                "madadkar-server {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    }

    pub fn add_group(&self, id: &str) -> Result<()> {
        self.admin(&["group", "add", id, "--name", &format!("گروه {id}")])?;
        Ok(())
    }

    /// Creates a worker and returns its id.
    pub fn add_worker(&self, name: &str, group: Option<&str>, role: &str) -> Result<String> {
        let mut args = vec!["worker", "add", name, "--role", role];
        if let Some(g) = group {
            args.extend(["--group", g]);
        }
        Ok(self.admin(&args)?["id"]
            .as_str()
            .context("worker id")?
            .to_string())
    }

    /// Adds an active partner to the directory through `madadkar-server partner add`; `kind`
    /// is a `PartnerKind` code (`bank`, `training_centre`, `clinic`, `other`).
    pub fn add_partner(
        &self,
        code: &str,
        kind: &str,
        name: &str,
        branch: Option<&str>,
    ) -> Result<()> {
        let mut args = vec![
            "partner", "add", "--code", code, "--kind", kind, "--name", name,
        ];
        if let Some(b) = branch {
            args.extend(["--branch", b]);
        }
        self.admin(&args)?;
        Ok(())
    }

    /// Adds every partner of `partners` through `madadkar-server partner import`, all or
    /// nothing, as a seeding file would.
    pub fn import_partners(&self, partners: &[madadkar_schema::Partner]) -> Result<usize> {
        let file = self.dir.path().join("partners-import.json");
        std::fs::write(&file, serde_json::to_vec(partners)?)?;
        let path = file.to_str().context("a UTF-8 data directory")?;
        let added = self.admin(&["partner", "import", path])?["added"]
            .as_u64()
            .context("the number of partners added")?;
        Ok(usize::try_from(added)?)
    }

    /// Retires a partner (`madadkar-server partner retire`).
    pub fn retire_partner(&self, code: &str) -> Result<()> {
        self.admin(&["partner", "retire", code])?;
        Ok(())
    }

    pub fn enroll_code(&self, worker: &str) -> Result<String> {
        Ok(self.admin(&["enroll-code", worker])?["code"]
            .as_str()
            .context("code")?
            .to_string())
    }

    /// A read-only look at the server's database, for checks the API does not offer.
    pub fn database(&self) -> Result<rusqlite::Connection> {
        Ok(rusqlite::Connection::open_with_flags(
            self.dir.path().join("madadkar-server.sqlite3"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A client replica on its own data directory.
#[derive(Debug)]
pub struct Replica {
    pub store: Store,
    pub dir: TempDir,
}

impl Replica {
    /// A new replica, enrolled with `server` as `worker`.
    pub fn enrolled(server: &Server, worker: &str, device: &str) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut store = Store::open(dir.path(), &passphrase())?;
        store.init(device, device, None)?;
        store.enroll(&server.url, &server.enroll_code(worker)?, None)?;
        Ok(Self { store, dir })
    }

    pub fn add_household(&mut self, first: &str, nid_seed: u32) -> Result<Uuid> {
        let head = NewMember {
            national_id: Some(NationalId::with_check_digit(nid_seed)),
            ..NewMember::named(first, "کریمی", Relation::Head)
        };
        let household = NewHousehold {
            district: "منطقه ۳".into(),
            address: "کوچه یاس".into(),
            phone: Some("09120000000".into()),
            ..Default::default()
        };
        Ok(self.store.add_household(&household, &head)?.0)
    }

    pub fn token(&self) -> Result<String> {
        let conn = self.store.connection()?;
        Ok(
            conn.query_row("SELECT value FROM meta WHERE key = 'token'", [], |r| {
                r.get(0)
            })?,
        )
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}
