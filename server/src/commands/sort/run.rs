//! The SORT / SORT_RO handler, in Redis's order: options, the elements (WRONGTYPE after the
//! options), their weights, the order, then the reply or the STORE. A STOREd result goes down
//! the write stream as what was stored (DEL, then RPUSH of the elements), so replicas and the
//! AOF never sort on their own; SORT without STORE writes nothing and propagates nothing.
//! STORE reports `sortstore` (or `del` for an empty result that deleted the key), as Redis.

use super::options::{self, Mode, SortOptions};
use super::order::{self, Item, Order};
use super::pattern;
use crate::commands::keys::lookup::read;
use crate::commands::{Ctx, Reply};
use crate::notify::class;
use crate::store::quicklist::QuickList;
use crate::store::types::ZSetValue;
use crate::store::{Entry, Value};
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::{key_hash_slot, Frame};

const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

pub fn sort(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    sort_generic(ctx, args, false)
}

pub fn sort_ro(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    sort_generic(ctx, args, true)
}

fn sort_generic(ctx: &mut Ctx, args: &[Bytes], readonly: bool) -> Reply {
    let cluster = ctx.shared.config.read().cluster_enabled;
    let mut o = options::parse(args, Mode { readonly, cluster })?;
    let (mut items, start, end) = load(ctx, &args[1], &mut o)?;
    lock_pattern_keys(ctx, &items, &o);
    let mut convertible = true;
    if !o.dontsort {
        convertible = weigh(ctx, &mut items, &o);
        let by_pattern = o.by.is_some();
        order::sort(&mut items, Order { desc: o.desc, alpha: o.alpha, by_pattern, store: o.store.is_some() });
    }
    if !convertible {
        return Err(Frame::error_static(NOT_DOUBLE));
    }
    let window = if end >= start { &items[start as usize..=end as usize] } else { &[] };
    match o.store.take() {
        None => {
            // Nothing written: nothing for replicas.
            ctx.propagate = Some(Vec::new());
            Ok(Frame::Array(
                output(ctx, window, &o.gets).into_iter().map(|v| v.map_or(Frame::Null, Frame::Bulk)).collect(),
            ))
        }
        Some(dst) => {
            let values: Vec<Bytes> = output(ctx, window, &o.gets).into_iter().map(Option::unwrap_or_default).collect();
            Ok(Frame::Integer(store(ctx, dst, values)))
        }
    }
}

/// The elements to sort, as Redis loads them: with nothing to sort (a constant BY), a list or a
/// sorted set gives just the LIMIT window in the requested direction; otherwise every element,
/// with the window `(start, end)` to answer after sorting. A set STOREd (or read by a script)
/// with nothing to sort is sorted ALPHA instead, so the result does not depend on the set's
/// layout (what a replica replays stays the same).
fn load(ctx: &mut Ctx, key: &[u8], o: &mut SortOptions) -> Result<(Vec<Item>, i64, i64), Frame> {
    let found = read(ctx.keys, &ctx.shared.stats, key).map(|e| matches!(e.value, Value::ZSet(_)));
    if found == Some(true) {
        // Redis converts a sorted set it sorts to a skiplist for good (OBJECT ENCODING shows
        // it; not a modification for WATCH).
        if let Some(Value::ZSet(z)) = ctx.keys.shard(key).get_mut(key).map(|e| &mut e.value) {
            z.convert_to_skiplist();
        }
    }
    let value = match ctx.keys.peek(key).map(|e| &e.value) {
        None => None,
        Some(v @ (Value::List(_) | Value::Set(_) | Value::ZSet(_))) => Some(v),
        Some(_) => return Err(Frame::error_static(errors::WRONGTYPE)),
    };
    if o.dontsort && (o.store.is_some() || ctx.client.in_script) && matches!(value, Some(Value::Set(_))) {
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    let len = match value {
        Some(Value::List(l)) => l.len(),
        Some(Value::Set(s)) => s.len(),
        Some(Value::ZSet(z)) => z.len(),
        _ => 0,
    };
    let (start, end) = order::window(len, o.limit);
    let n = (end - start + 1).max(0) as usize;
    let bytes = |b: &[u8]| Item::new(Bytes::copy_from_slice(b));
    let (items, start, end) = match value {
        Some(Value::List(l)) if o.dontsort => (list_window(l, start as usize, n, o.desc), 0, n as i64 - 1),
        Some(Value::ZSet(z)) if o.dontsort => (zset_window(z, start as usize, n, o.desc), 0, n as i64 - 1),
        Some(Value::List(l)) => (l.iter().map(bytes).collect(), start, end),
        Some(Value::Set(s)) => (s.iter().map(|m| Item::new(m.to_bytes())).collect(), start, end),
        Some(Value::ZSet(z)) => (z.iter().map(|(_, m)| bytes(m)).collect(), start, end),
        _ => (Vec::new(), start, end),
    };
    Ok((items, start, end))
}

/// `n` elements of a list from position `start`, counted from the tail when `desc`.
fn list_window(l: &QuickList, start: usize, n: usize, desc: bool) -> Vec<Item> {
    if n == 0 {
        return Vec::new();
    }
    let bytes = |b: &[u8]| Item::new(Bytes::copy_from_slice(b));
    if !desc {
        return l.range(start, start + n - 1).map(bytes).collect();
    }
    let last = l.len() - 1 - start;
    let mut v: Vec<Item> = l.range(last + 1 - n, last).map(bytes).collect();
    v.reverse();
    v
}

/// `n` members of a sorted set from rank `start`, counted from the highest when `desc`.
fn zset_window(z: &ZSetValue, start: usize, n: usize, desc: bool) -> Vec<Item> {
    if n == 0 {
        return Vec::new();
    }
    let bytes = |(_, m): (f64, &[u8])| Item::new(Bytes::copy_from_slice(m));
    if desc {
        z.iter_back_from_rank(z.len() - 1 - start).take(n).map(bytes).collect()
    } else {
        z.iter_from_rank(start).take(n).map(bytes).collect()
    }
}

/// BY and GET patterns read keys anywhere in the keyspace: the command, which runs with
/// nothing else running (`exec::needs_whole_gate`), trades its own slot locks for the locks
/// of its own slots and every slot a pattern names, taken in ascending order.
fn lock_pattern_keys(ctx: &mut Ctx, items: &[Item], o: &SortOptions) {
    let by = o.by.as_ref().filter(|_| !o.dontsort);
    let patterns: Vec<&Bytes> = by.into_iter().chain(&o.gets).filter(|p| pattern::has_star(p)).collect();
    if patterns.is_empty() || items.is_empty() {
        return;
    }
    let mut slots: Vec<u16> = ctx.keys.slots().collect();
    for item in items {
        for p in &patterns {
            if let Some(t) = pattern::target(p, &item.element) {
                slots.push(key_hash_slot(&t.key));
            }
        }
    }
    let db = ctx.keys.db();
    let (now_ms, expire_on_access, master_stream) =
        (ctx.keys.now_ms, ctx.keys.expire_on_access, ctx.keys.master_stream);
    *ctx.keys = db.lock_slots(&mut []);
    *ctx.keys = db.lock_slots(&mut slots);
    ctx.keys.now_ms = now_ms;
    ctx.keys.expire_on_access = expire_on_access;
    ctx.keys.master_stream = master_stream;
}

/// Read every item's weight (BY value, or the element itself); false if a numeric weight
/// could not be read (Redis still sorts, then answers the error).
fn weigh(ctx: &mut Ctx, items: &mut [Item], o: &SortOptions) -> bool {
    let mut convertible = true;
    for item in items.iter_mut() {
        let value = match &o.by {
            Some(p) => match pattern::lookup(ctx, p, &item.element) {
                Some(v) => v,
                None => continue,
            },
            None => item.element.clone(),
        };
        if !o.alpha {
            match order::score(&value) {
                Some(s) => item.score = s,
                None => convertible = false,
            }
        } else if o.by.is_some() {
            item.by_value = Some(value);
        }
    }
    convertible
}

/// What the window answers: each element, or for each element what every GET names
/// (`None`: nothing there).
fn output(ctx: &mut Ctx, window: &[Item], gets: &[Bytes]) -> Vec<Option<Bytes>> {
    if gets.is_empty() {
        return window.iter().map(|i| Some(i.element.clone())).collect();
    }
    let mut out = Vec::with_capacity(window.len() * gets.len());
    for item in window {
        for g in gets {
            out.push(pattern::lookup(ctx, g, &item.element));
        }
    }
    out
}

/// STORE: the result replaces `dst` as a list (no TTL), or deletes it when empty; the stream
/// gets what was done. Returns the stored length.
fn store(ctx: &mut Ctx, dst: Bytes, values: Vec<Bytes>) -> i64 {
    let n = values.len() as i64;
    if values.is_empty() {
        let deleted = ctx.keys.remove(&dst).is_some();
        if deleted {
            ctx.notify(class::GENERIC, "del", &dst);
        }
        ctx.propagate = Some(if deleted { vec![vec![Bytes::from_static(b"DEL"), dst]] } else { Vec::new() });
        return 0;
    }
    let mut list = QuickList::new();
    for v in &values {
        list.push_back(v);
    }
    ctx.keys.insert(&dst, Entry::new(Value::List(Box::new(list))));
    ctx.notify(class::LIST, "sortstore", &dst);
    let mut rpush = Vec::with_capacity(values.len() + 2);
    rpush.push(Bytes::from_static(b"RPUSH"));
    rpush.push(dst.clone());
    rpush.extend(values);
    ctx.propagate = Some(vec![vec![Bytes::from_static(b"DEL"), dst], rpush]);
    n
}
