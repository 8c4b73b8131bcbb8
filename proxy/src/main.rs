//! slotbox-proxy: the load balancer lands with issue 6; until then the binary says so.

fn main() {
    eprintln!("slotbox-proxy: not implemented yet (see issue 6)");
    std::process::exit(1);
}
