//! Hostile but well-formed changes: another device edits a copy of a real household with
//! arbitrary Automerge operations (any key, any value type, objects where scalars belong,
//! deletions, deep nesting, text and lists), and the changes it makes travel as bytes through
//! `parse_change` into the base document, which is then read. Raw byte mutation rarely builds
//! a valid change that changes the document's meaning; this target does so on every input.

use arbitrary::{Arbitrary, Unstructured};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, ValueRef};
use madadkar_schema::HouseholdDoc;
use madadkar_schema::change::parse_change;

#[derive(Debug, Arbitrary)]
enum Key {
    /// One of the keys the base document uses (field names, entity ids, need domains).
    Known(u8),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
enum Scalar {
    /// One of the string values the base document holds (dates, codes, ids).
    Known(u8),
    Str(String),
    Int(i64),
    Uint(u64),
    F64(f64),
    Bool(bool),
    Null,
    Bytes(Vec<u8>),
    Timestamp(i64),
    Counter(i64),
}

#[derive(Debug, Arbitrary)]
enum Kind {
    Map,
    List,
    Text,
}

#[derive(Debug, Arbitrary)]
enum Op {
    Put {
        obj: u8,
        key: Key,
        value: Scalar,
    },
    PutObject {
        obj: u8,
        key: Key,
        kind: Kind,
    },
    Delete {
        obj: u8,
        key: Key,
    },
    Increment {
        obj: u8,
        key: Key,
        by: i64,
    },
    /// Maps nested `depth` deep under one key: the stack-exhaustion attack.
    Nest {
        obj: u8,
        key: Key,
        depth: u16,
    },
    SpliceText {
        obj: u8,
        at: u8,
        text: String,
    },
    /// Ends the current change with a message (a forged or broken `ChangeMeta`) and a time.
    Commit {
        message: Option<String>,
        time: i64,
    },
}

#[derive(Debug, Arbitrary)]
struct Input {
    ops: Vec<Op>,
}

/// The base document's objects, keys and string values, for the operations to aim at.
struct Targets {
    objects: Vec<(ObjId, ObjType)>,
    keys: Vec<String>,
    strings: Vec<String>,
}

impl Targets {
    fn of(doc: &AutoCommit) -> Self {
        let mut t = Self {
            objects: vec![(automerge::ROOT, ObjType::Map)],
            keys: Vec::new(),
            strings: Vec::new(),
        };
        let mut i = 0;
        while i < t.objects.len() && i < 256 {
            let (obj, kind) = t.objects[i].clone();
            if kind == ObjType::Map {
                for item in doc.map_range(&obj, ..) {
                    t.keys.push(item.key.to_string());
                    match item.value {
                        ValueRef::Object(kind) => t.objects.push((item.id(), kind)),
                        ValueRef::Scalar(automerge::ScalarValueRef::Str(s)) => {
                            t.strings.push(s.to_string())
                        }
                        ValueRef::Scalar(_) => {}
                    }
                }
            }
            i += 1;
        }
        t
    }

    fn key(&self, key: &Key) -> String {
        match key {
            Key::Known(i) if !self.keys.is_empty() => {
                self.keys[usize::from(*i) % self.keys.len()].clone()
            }
            Key::Known(_) => String::new(),
            Key::Raw(s) => s.clone(),
        }
    }

    fn scalar(&self, value: Scalar) -> ScalarValue {
        match value {
            Scalar::Known(i) if !self.strings.is_empty() => ScalarValue::Str(
                self.strings[usize::from(i) % self.strings.len()]
                    .as_str()
                    .into(),
            ),
            Scalar::Known(_) => ScalarValue::Null,
            Scalar::Str(s) => ScalarValue::Str(s.into()),
            Scalar::Int(i) => ScalarValue::Int(i),
            Scalar::Uint(u) => ScalarValue::Uint(u),
            Scalar::F64(f) => ScalarValue::F64(f),
            Scalar::Bool(b) => ScalarValue::Boolean(b),
            Scalar::Null => ScalarValue::Null,
            Scalar::Bytes(b) => ScalarValue::Bytes(b),
            Scalar::Timestamp(t) => ScalarValue::Timestamp(t),
            Scalar::Counter(c) => ScalarValue::counter(c),
        }
    }

    fn object(&self, i: u8) -> (ObjId, ObjType) {
        self.objects[usize::from(i) % self.objects.len()].clone()
    }
}

fn kind(k: &Kind) -> ObjType {
    match k {
        Kind::Map => ObjType::Map,
        Kind::List => ObjType::List,
        Kind::Text => ObjType::Text,
    }
}

/// Applies one operation; errors (a map key on a list, an index past the end) are skipped.
fn apply(doc: &mut AutoCommit, t: &mut Targets, op: Op) {
    match op {
        Op::Put { obj, key, value } => {
            let (obj, k) = t.object(obj);
            let value = t.scalar(value);
            let _ = match k {
                ObjType::Map | ObjType::Table => doc.put(&obj, t.key(&key), value),
                ObjType::List => doc.insert(&obj, 0, value),
                ObjType::Text => Ok(()),
            };
        }
        Op::PutObject {
            obj,
            key,
            kind: new,
        } => {
            let (obj, k) = t.object(obj);
            let made = match k {
                ObjType::Map | ObjType::Table => doc.put_object(&obj, t.key(&key), kind(&new)),
                ObjType::List => doc.insert_object(&obj, 0, kind(&new)),
                ObjType::Text => return,
            };
            if let Ok(id) = made {
                t.objects.push((id, kind(&new)));
            }
        }
        Op::Delete { obj, key } => {
            let (obj, k) = t.object(obj);
            let _ = match k {
                ObjType::Map | ObjType::Table => doc.delete(&obj, t.key(&key)),
                _ if doc.length(&obj) > 0 => doc.delete(&obj, 0),
                _ => Ok(()),
            };
        }
        Op::Increment { obj, key, by } => {
            let (obj, k) = t.object(obj);
            if matches!(k, ObjType::Map | ObjType::Table) {
                let _ = doc.increment(&obj, t.key(&key), by);
            }
        }
        Op::Nest { obj, key, depth } => {
            let (mut obj, k) = t.object(obj);
            if !matches!(k, ObjType::Map | ObjType::Table) {
                return;
            }
            let mut name = t.key(&key);
            for _ in 0..depth {
                match doc.put_object(&obj, name.as_str(), ObjType::Map) {
                    Ok(id) => obj = id,
                    Err(_) => return,
                }
                name = "n".into();
            }
        }
        Op::SpliceText { obj, at, text } => {
            let (obj, k) = t.object(obj);
            if k == ObjType::Text {
                let at = usize::from(at).min(doc.length(&obj));
                let _ = doc.splice_text(&obj, at, 0, &text);
            }
        }
        Op::Commit { message, time } => {
            let mut options = CommitOptions::default().with_time(time);
            if let Some(m) = message {
                options = options.with_message(m);
            }
            doc.commit_with(options);
        }
    }
}

/// The target's body: the input bytes read as a list of operations the way libFuzzer's typed
/// targets read them (`arbitrary_take_rest`), then applied and carried over as bytes.
pub fn run(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let mut base = super::base_document();
    let before = base.heads();
    let mut theirs = base.automerge().fork();
    theirs.set_actor(ActorId::from([0x66u8; 16]));
    let mut targets = Targets::of(&theirs);
    for op in input.ops {
        apply(&mut theirs, &mut targets, op);
    }
    theirs.commit_with(CommitOptions::default().with_time(1_760_000_000));
    // What travels is bytes: every new change goes through the bounded parser first.
    let mut changes = Vec::new();
    for change in theirs.get_changes(&before) {
        match parse_change(change.raw_bytes()) {
            Ok(parsed) => changes.push(parsed),
            Err(_) => return,
        }
    }
    let all: Vec<Vec<u8>> = theirs
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    super::apply_and_read(changes);
    // The same history arriving at a replica that never held the household.
    if let Ok(mut fresh) = HouseholdDoc::from_parts(None, all.iter().map(Vec::as_slice)) {
        super::exercise(&mut fresh);
    }
}
