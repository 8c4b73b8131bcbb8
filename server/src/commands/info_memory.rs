//! INFO memory: the process's memory as Redis 7.0 reports it (`used_memory` from the counting
//! allocator, RSS from procfs, glibc malloc's heap from `mallinfo2`), the section's lines.

use super::info_fmt::{field, fixed, human_bytes, read_proc};
use crate::alloc;
use crate::shared::Shared;

/// Bytes allocated by the process; without the counting allocator, an estimate from the
/// keyspace (keys, values and a per-entry overhead) so INFO never shows 0.
fn used_memory(shared: &Shared) -> u64 {
    if alloc::is_installed() {
        return alloc::allocated() as u64;
    }
    const ENTRY_OVERHEAD: usize = 64;
    let mut total = 0usize;
    let now = crate::clock::unix_time_ms();
    for db in shared.keyspace.iter() {
        for slot in 0..slotbox_protocol::SLOT_COUNT as u16 {
            db.for_each_key_in_slot(slot, now, |k, e| total += k.len() + e.value.heap_size() + ENTRY_OVERHEAD);
        }
    }
    total as u64
}

fn page_size() -> u64 {
    // SAFETY: sysconf only reads a system constant; it has no pointer arguments.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

/// Resident set size from `/proc/self/statm` (0 where there is no procfs).
fn rss_bytes() -> u64 {
    let statm = read_proc("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()).unwrap_or(0) * page_size()
}

fn total_system_memory() -> u64 {
    // SAFETY: as in `page_size`.
    let pages = unsafe { libc::sysconf(libc::_SC_PHYS_PAGES) };
    pages.max(0) as u64 * page_size()
}

fn ratio(a: u64, b: u64) -> String {
    format!("{:.2}", if b == 0 { 0.0 } else { a as f64 / b as f64 })
}

/// INFO memory, in Redis 7.0's order. The allocator is glibc's malloc (`mem_allocator:libc`):
/// `allocator_allocated` / `allocator_active` are its bytes in use / taken from the system
/// (`mallinfo2`), `allocator_resident` the process RSS (glibc does not track residency, so
/// `rss_overhead_*` is 1.00 / 0). `used_memory_overhead` is the memory in use at start plus
/// the replication buffer and the scripts; `used_memory_dataset` the rest.
pub(super) fn memory(out: &mut String, shared: &Shared) {
    let used = used_memory(shared);
    let peak = alloc::note_peak(used as usize) as u64;
    let rss = rss_bytes();
    let system = total_system_memory();
    let (maxmemory, policy) = {
        let c = shared.config.read();
        (c.maxmemory as u64, c.maxmemory_policy.clone())
    };
    let sized = |out: &mut String, name: &str, n: u64| {
        field(out, name, n);
        field(out, &format!("{name}_human"), human_bytes(n));
    };
    sized(out, "used_memory", used);
    sized(out, "used_memory_rss", rss);
    sized(out, "used_memory_peak", peak);
    let peak_perc = if peak == 0 { 0.0 } else { used as f64 * 100.0 / peak as f64 };
    field(out, "used_memory_peak_perc", format!("{peak_perc:.2}%"));
    let repl_buf = shared.repl.backlog.memory() as u64;
    let scripts = scripting(shared);
    let startup = shared.startup_memory.min(used);
    let overhead = (startup + repl_buf + scripts.eval_bytes).min(used);
    let dataset = used - overhead;
    field(out, "used_memory_overhead", overhead);
    field(out, "used_memory_startup", startup);
    field(out, "used_memory_dataset", dataset);
    let net = used.saturating_sub(startup);
    let dataset_perc = if net == 0 { 0.0 } else { dataset as f64 * 100.0 / net as f64 };
    field(out, "used_memory_dataset_perc", format!("{dataset_perc:.2}%"));
    let heap = malloc_heap();
    let (allocated, active) = heap.unwrap_or((used, used));
    field(out, "allocator_allocated", allocated);
    field(out, "allocator_active", active);
    field(out, "allocator_resident", rss);
    sized(out, "total_system_memory", system);
    scripting_memory(&scripts, out, &sized);
    sized(out, "maxmemory", maxmemory);
    field(out, "maxmemory_policy", policy);
    field(out, "allocator_frag_ratio", ratio(active, allocated));
    field(out, "allocator_frag_bytes", active as i64 - allocated as i64);
    field(out, "allocator_rss_ratio", ratio(rss, active));
    field(out, "allocator_rss_bytes", rss as i64 - active as i64);
    fixed(out, "rss_overhead_ratio:1.00 rss_overhead_bytes:0");
    field(out, "mem_fragmentation_ratio", ratio(rss, used));
    field(out, "mem_fragmentation_bytes", rss as i64 - used as i64);
    // One buffer holds the backlog and what replicas were not sent yet (Redis 7.0's shared
    // replication buffer): both lines show it.
    field(out, "mem_not_counted_for_evict", 0);
    field(out, "mem_replication_backlog", repl_buf);
    field(out, "mem_total_replication_buffers", repl_buf);
    fixed(
        out,
        "mem_clients_slaves:0 mem_clients_normal:0 mem_cluster_links:0 mem_aof_buffer:0 \
         mem_allocator:libc active_defrag_running:0",
    );
    field(out, "lazyfree_pending_objects", shared.lazyfree.pending() as i64);
    field(out, "lazyfreed_objects", shared.lazyfree.freed() as i64);
}

/// glibc malloc's (bytes in use, bytes taken from the system), both counting mmapped blocks.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn malloc_heap() -> Option<(u64, u64)> {
    // SAFETY: mallinfo2 takes no arguments and returns a plain struct by value; it only reads
    // the allocator's own statistics (under its arena locks).
    let m = unsafe { libc::mallinfo2() };
    Some(((m.uordblks + m.hblkhd) as u64, (m.arena + m.hblkhd) as u64))
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn malloc_heap() -> Option<(u64, u64)> {
    None
}

/// What the scripting engines hold.
#[derive(Default)]
struct Scripting {
    vm_eval: u64,
    eval_bytes: u64,
    scripts: u64,
    vm_fn: u64,
    functions: u64,
    libraries: u64,
}

/// The engines are locked only under the whole gate, so INFO (under its stripe) finds them
/// free; `try_lock` keeps it from ever waiting.
fn scripting(shared: &Shared) -> Scripting {
    match shared.scripting.engines.try_lock() {
        Some(e) => Scripting {
            vm_eval: e.eval.vm.used_memory() as u64,
            eval_bytes: e.eval.body_bytes as u64,
            scripts: e.eval.len() as u64,
            vm_fn: e.functions.vm.used_memory() as u64,
            functions: e.functions.function_count() as u64,
            libraries: e.functions.library_count() as u64,
        },
        None => Scripting::default(),
    }
}

/// The scripting lines of INFO memory (the interpreters' memory, scripts and libraries).
fn scripting_memory(s: &Scripting, out: &mut String, sized: &dyn Fn(&mut String, &str, u64)) {
    field(out, "used_memory_lua", s.vm_eval);
    field(out, "used_memory_vm_eval", s.vm_eval);
    field(out, "used_memory_lua_human", human_bytes(s.vm_eval));
    field(out, "used_memory_scripts_eval", s.eval_bytes);
    field(out, "number_of_cached_scripts", s.scripts);
    field(out, "number_of_functions", s.functions);
    field(out, "number_of_libraries", s.libraries);
    field(out, "used_memory_vm_functions", s.vm_fn);
    sized(out, "used_memory_vm_total", s.vm_eval + s.vm_fn);
    field(out, "used_memory_functions", 0);
    sized(out, "used_memory_scripts", s.eval_bytes);
}
