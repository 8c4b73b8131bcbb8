//! slotbox-cluster: the cluster manager lands with issue 5; until then the binary says so.

fn main() {
    eprintln!("slotbox-cluster: not implemented yet (see issue 5)");
    std::process::exit(1);
}
