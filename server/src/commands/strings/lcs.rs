//! LCS: the longest common subsequence of two string keys, with LEN, IDX, MINMATCHLEN and
//! WITHMATCHLEN. Same dynamic-programming table and backtracking walk as Redis 7.0, so ties
//! resolve to the same subsequence and the match ranges come out in the same order.

use super::common::value_bytes;
use crate::commands::keys::lookup::read;
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use bytes::Bytes;
use slotbox_protocol::Frame;

struct LcsOpts {
    idx: bool,
    len: bool,
    with_match_len: bool,
    min_match_len: u64,
}

fn parse_opts(argv: &[Bytes]) -> Result<LcsOpts, Frame> {
    let mut o = LcsOpts { idx: false, len: false, with_match_len: false, min_match_len: 0 };
    let mut j = 3;
    while j < argv.len() {
        let opt = &argv[j];
        if args::is(opt, "idx") {
            o.idx = true;
        } else if args::is(opt, "len") {
            o.len = true;
        } else if args::is(opt, "withmatchlen") {
            o.with_match_len = true;
        } else if args::is(opt, "minmatchlen") && j + 1 < argv.len() {
            o.min_match_len = args::int(&argv[j + 1])?.max(0) as u64;
            j += 1;
        } else {
            return Err(args::syntax_error());
        }
        j += 1;
    }
    if o.idx && o.len {
        return Err(Frame::error_static("ERR If you want both the length and indexes, please just use IDX."));
    }
    Ok(o)
}

/// The string at `key` ("" if missing); `Err` if it holds another type.
fn string_at(ctx: &mut Ctx, key: &[u8]) -> Result<Bytes, ()> {
    match read(ctx.keys, &ctx.shared.stats, key) {
        None => Ok(Bytes::new()),
        Some(e) => value_bytes(&e.value).ok_or(()),
    }
}

pub fn lcs(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let a = string_at(ctx, &args[1]);
    let b = string_at(ctx, &args[2]);
    let (Ok(a), Ok(b)) = (a, b) else {
        return Ok(Frame::error_static("ERR The specified keys must contain string values"));
    };
    let opts = parse_opts(args)?;
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return Ok(Frame::error_static("ERR String too long for LCS"));
    }
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    if cells * 4 > ctx.shared.config.read().proto_max_bulk_len as u64 {
        return Ok(Frame::error_static("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"));
    }
    let table = Table::build(&a, &b);
    let total = table.at(a.len(), b.len());
    if opts.len && !opts.idx {
        return Ok(Frame::Integer(total as i64));
    }
    let (text, matches) = table.walk(&a, &b, &opts);
    if !opts.idx {
        return Ok(Frame::Bulk(Bytes::from(text)));
    }
    Ok(Frame::Map(vec![
        (Frame::bulk_static("matches"), Frame::Array(matches)),
        (Frame::bulk_static("len"), Frame::Integer(total as i64)),
    ]))
}

/// LCS[i][j] = length of the LCS of a[..i] and b[..j], row-major.
struct Table {
    cells: Vec<u32>,
    width: usize,
}

impl Table {
    fn build(a: &[u8], b: &[u8]) -> Table {
        let width = b.len() + 1;
        let mut cells = vec![0u32; (a.len() + 1) * width];
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                cells[i * width + j] = if a[i - 1] == b[j - 1] {
                    cells[(i - 1) * width + j - 1] + 1
                } else {
                    cells[(i - 1) * width + j].max(cells[i * width + j - 1])
                };
            }
        }
        Table { cells, width }
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.width + j]
    }

    /// Walk back from the end: the LCS text and (when IDX) the match ranges, as Redis emits them.
    fn walk(&self, a: &[u8], b: &[u8], opts: &LcsOpts) -> (Vec<u8>, Vec<Frame>) {
        let mut idx = self.at(a.len(), b.len()) as usize;
        let mut text = vec![0u8; idx];
        let mut matches = Vec::new();
        let (alen, mut i, mut j) = (a.len(), a.len(), b.len());
        // (a_start, a_end, b_start, b_end); a_start == alen means "no range open".
        let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0, 0, 0);
        while i > 0 && j > 0 {
            let mut emit = false;
            if a[i - 1] == b[j - 1] {
                text[idx - 1] = a[i - 1];
                if a_start == alen {
                    (a_start, a_end, b_start, b_end) = (i - 1, i - 1, j - 1, j - 1);
                } else if a_start == i && b_start == j {
                    a_start -= 1;
                    b_start -= 1;
                } else {
                    emit = true;
                }
                if a_start == 0 || b_start == 0 {
                    emit = true;
                }
                idx -= 1;
                i -= 1;
                j -= 1;
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                emit = a_start != alen;
            }
            if emit {
                let match_len = (a_end - a_start + 1) as u64;
                if opts.idx && (opts.min_match_len == 0 || match_len >= opts.min_match_len) {
                    matches.push(range_frame(
                        (a_start, a_end),
                        (b_start, b_end),
                        opts.with_match_len.then_some(match_len),
                    ));
                }
                a_start = alen;
            }
        }
        (text, matches)
    }
}

fn range_frame(a: (usize, usize), b: (usize, usize), len: Option<u64>) -> Frame {
    let pair = |(s, e): (usize, usize)| Frame::Array(vec![Frame::Integer(s as i64), Frame::Integer(e as i64)]);
    let mut items = vec![pair(a), pair(b)];
    if let Some(l) = len {
        items.push(Frame::Integer(l as i64));
    }
    Frame::Array(items)
}
