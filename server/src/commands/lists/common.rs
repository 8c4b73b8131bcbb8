//! Helpers the lists commands share (lookups, argument parsing, reply shapes).

use crate::commands::keys::lookup::read;
use crate::commands::Ctx;
use crate::notify::class;
use crate::store::{Entry, Value};
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

/// A stored list.
pub(super) type List = crate::store::quicklist::QuickList;

/// An end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Side {
    Left,
    Right,
}

impl Side {
    /// The keyspace event of a push at this end.
    pub(super) fn push_event(self) -> &'static str {
        match self {
            Side::Left => "lpush",
            Side::Right => "rpush",
        }
    }

    /// The keyspace event of a pop from this end.
    pub(super) fn pop_event(self) -> &'static str {
        match self {
            Side::Left => "lpop",
            Side::Right => "rpop",
        }
    }

    /// `LEFT` / `RIGHT` (any case), else `ERR syntax error`.
    pub(super) fn parse(arg: &[u8]) -> Result<Side, Frame> {
        if arg.eq_ignore_ascii_case(b"left") {
            Ok(Side::Left)
        } else if arg.eq_ignore_ascii_case(b"right") {
            Ok(Side::Right)
        } else {
            Err(Frame::error_static(errors::SYNTAX))
        }
    }
}

pub(super) fn wrongtype() -> Frame {
    Frame::error_static(errors::WRONGTYPE)
}

/// Redis's `lookupKeyWrite` + `checkType`: the length of the list at `key`, `None` if there is
/// no such key, WRONGTYPE for another type. Does not count as a modification.
pub(super) fn list_len(ctx: &mut Ctx, key: &[u8]) -> Result<Option<usize>, Frame> {
    match ctx.keys.get(key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l.len())),
        Some(_) => Err(wrongtype()),
    }
}

/// Redis's `lookupKeyRead` (counting a hit or miss) + `checkType`.
pub(super) fn read_list<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a List>, Frame> {
    match read(ctx.keys, &ctx.shared.stats, key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(wrongtype()),
    }
}

/// The list at `key` for modification (counts as a modification for WATCH). `None` if there
/// is no list there: callers check the type first.
pub(super) fn list_mut<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a mut List> {
    match ctx.keys.get_mut(key).map(|e| &mut e.value) {
        Some(Value::List(l)) => Some(l),
        _ => None,
    }
}

/// Push `items` one by one at `side` of the list at `key`, creating it if needed (the caller
/// checked the type), and report the `lpush` / `rpush` event. Returns the new length.
pub(super) fn push_items<'i>(
    ctx: &mut Ctx,
    key: &[u8],
    side: Side,
    items: impl IntoIterator<Item = &'i [u8]>,
) -> usize {
    let len = match list_mut(ctx, key) {
        Some(l) => extend(l, side, items),
        None => {
            let mut l = List::new();
            let len = extend(&mut l, side, items);
            ctx.keys.insert(key, Entry::new(Value::List(Box::new(l))));
            len
        }
    };
    ctx.notify(class::LIST, side.push_event(), key);
    len
}

/// Push `items` one by one at `side` of `l`; returns the new length.
pub(super) fn extend<'i>(l: &mut List, side: Side, items: impl IntoIterator<Item = &'i [u8]>) -> usize {
    for item in items {
        match side {
            Side::Left => l.push_front(item),
            Side::Right => l.push_back(item),
        }
    }
    l.len()
}

/// Pop up to `count` elements from `side` of the list at `key` (the caller checked it is a
/// list), then report them and delete the key once it is empty ([`elements_removed`]).
pub(super) fn pop_items(ctx: &mut Ctx, key: &[u8], side: Side, count: usize) -> Vec<Bytes> {
    let out = take_items(ctx, key, side, count);
    if !out.is_empty() {
        elements_removed(ctx, key, side);
    }
    out
}

/// Redis's `listElementsRemoved`: the `lpop` / `rpop` event, then the key deleted (with its
/// `del` event) if the list is now empty.
pub(super) fn elements_removed(ctx: &mut Ctx, key: &[u8], side: Side) {
    ctx.notify(class::LIST, side.pop_event(), key);
    remove_if_empty(ctx, key);
}

/// Delete the list at `key` if it is empty, with the `del` event.
pub(super) fn remove_if_empty(ctx: &mut Ctx, key: &[u8]) {
    if list_mut(ctx, key).is_some_and(|l| l.is_empty()) {
        ctx.keys.remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
}

/// Pop up to `count` elements from `side` of the list at `key`, leaving the key in place even
/// when it is empty (the caller reports the pop and deletes it).
pub(super) fn take_items(ctx: &mut Ctx, key: &[u8], side: Side, count: usize) -> Vec<Bytes> {
    let Some(l) = list_mut(ctx, key) else {
        return Vec::new();
    };
    let n = count.min(l.len());
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let item = match side {
            Side::Left => l.pop_front(),
            Side::Right => l.pop_back(),
        };
        out.extend(item.map(Bytes::from));
    }
    out
}

/// Turn a possibly negative index into a position, if it falls inside a list of `len`.
pub(super) fn position(index: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let i = if index < 0 { len + index } else { index };
    (0..len).contains(&i).then_some(i as usize)
}

/// Redis's `getPositiveLongFromObjectOrReply` with a message: `msg` for a negative value and
/// for one that is not an integer.
pub(super) fn non_negative(arg: &[u8], msg: &'static str) -> Result<i64, Frame> {
    match crate::commands::args::int(arg) {
        Ok(v) if v >= 0 => Ok(v),
        _ => Err(Frame::error_static(msg)),
    }
}

/// The elements of a popped range as bulk replies.
pub(super) fn bulks(items: Vec<Bytes>) -> Frame {
    Frame::Array(items.into_iter().map(Frame::Bulk).collect())
}
