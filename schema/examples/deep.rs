use automerge::{AutoCommit, ObjType, ROOT, ReadDoc, transaction::Transactable, Change};
use std::time::Instant;

fn run<T: Send + 'static>(name: &str, only: &str, stack: usize, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    if !only.is_empty() && only != name { return None; }
    let t = Instant::now();
    let r = std::thread::Builder::new().stack_size(stack).spawn(f).unwrap().join();
    println!("{name}: {} in {:?}", if r.is_ok() { "ok" } else { "PANIC" }, t.elapsed());
    r.ok()
}

fn main() {
    if std::env::args().nth(3).is_some() { let d: usize = std::env::args().nth(1).unwrap().parse().unwrap(); extra(d, &std::env::args().nth(2).unwrap()); return; }
    let depth: usize = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(100_000);
    let stack = 2 << 20; let only = std::env::args().nth(2).unwrap_or_default();
    let t = Instant::now();
    let mut doc = AutoCommit::new();
    let mut obj = ROOT;
    for _ in 0..depth {
        obj = doc.put_object(&obj, "x", ObjType::Map).unwrap();
    }
    doc.commit();
    let mut ch = doc.get_changes(&[]).pop().unwrap();
    let bytes = ch.bytes().to_vec();
    println!("built in {:?}: {} ops, {} bytes", t.elapsed(), ch.len(), bytes.len());
    let b = bytes.clone();
    run("parse", &only, stack, move || Change::try_from(b.as_slice()).unwrap());
    let b = bytes.clone();
    let applied = run("apply", &only, stack, move || {
        let mut d = AutoCommit::new();
        d.apply_changes(vec![Change::try_from(b.as_slice()).unwrap()]).unwrap();
        d
    });
    let d = applied.unwrap_or_else(|| { let mut d = AutoCommit::new(); d.apply_changes(vec![Change::try_from(bytes.as_slice()).unwrap()]).unwrap(); d });
    let mut d2 = d.clone();
    let saved = run("save", &only, stack, move || d2.save());
    if let Some(s) = saved.or_else(|| Some(d.clone().save())) {
        run("load", &only, stack, move || AutoCommit::load(&s).unwrap());
    }
    let d3 = d.clone();
    run("map_range root", &only, stack, move || d3.map_range(ROOT, ..).count());
    let mut d4 = d.clone();
    run("get_changes", &only, stack, move || d4.get_changes(&[]).len());
    let mut d5 = d.clone();
    run("fork", &only, stack, move || { let _ = d5.fork(); });
    let mut d6 = d.clone();
    run("diff", &only, stack, move || { let h = d6.get_heads(); d6.diff(&[], &h).len() });
    let d7 = d.clone();
    run("drop", &only, stack, move || drop(d7));
    let b = bytes.clone();
    run("apply then sync msg", &only, stack, move || {
        use automerge::sync::SyncDoc;
        let mut d = AutoCommit::new();
        d.apply_changes(vec![Change::try_from(b.as_slice()).unwrap()]).unwrap();
        let mut s = automerge::sync::State::new();
        d.sync().generate_sync_message(&mut s).map(|m| m.encode().len())
    });
}

#[allow(dead_code)]
fn extra(depth: usize, only: &str) {
    let stack = 2 << 20;
    // Nesting spread over many changes.
    let mut doc = AutoCommit::new();
    let mut obj = ROOT;
    for i in 0..depth {
        obj = doc.put_object(&obj, "x", ObjType::Map).unwrap();
        if i % 1000 == 999 { doc.commit(); }
    }
    doc.commit();
    let changes: Vec<Vec<u8>> = doc.get_changes(&[]).into_iter().map(|mut c| c.bytes().to_vec()).collect();
    println!("{} changes", changes.len());
    let c2 = changes.clone();
    run("split apply", only, stack, move || {
        let mut d = AutoCommit::new();
        d.apply_changes(c2.iter().map(|b| Change::try_from(b.as_slice()).unwrap())).unwrap();
        d.save().len()
    });
    let c2 = changes.clone();
    run("split apply reversed", only, stack, move || {
        let mut d = AutoCommit::new();
        d.apply_changes(c2.iter().rev().map(|b| Change::try_from(b.as_slice()).unwrap())).unwrap();
        d.save().len()
    });
    let mut d1 = doc.clone();
    run("merge", only, stack, move || {
        let mut d = AutoCommit::new();
        d.merge(&mut d1).unwrap().len()
    });
    // Lists
    let mut l = AutoCommit::new();
    let mut obj = l.put_object(ROOT, "l", ObjType::List).unwrap();
    for _ in 0..depth {
        obj = l.insert_object(&obj, 0, ObjType::List).unwrap();
    }
    l.commit();
    let b = l.save();
    run("list load", only, stack, move || AutoCommit::load(&b).unwrap().save().len());
    // Text at the bottom of nested maps
    let mut t = AutoCommit::new();
    let mut obj = ROOT;
    for _ in 0..depth { obj = t.put_object(&obj, "x", ObjType::Map).unwrap(); }
    let txt = t.put_object(&obj, "t", ObjType::Text).unwrap();
    t.splice_text(&txt, 0, 0, "hello").unwrap();
    t.commit();
    let mut t2 = t.clone();
    run("text at bottom", only, stack, move || t2.text(&txt).unwrap());
    let mut t3 = t.clone();
    run("parents", only, stack, move || {
        let leaf = t3.get_heads();
        let _ = leaf;
        let objs: Vec<_> = t3.map_range(ROOT, ..).map(|i| i.id()).collect();
        objs.len()
    });
}
