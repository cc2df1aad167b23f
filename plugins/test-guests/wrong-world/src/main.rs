//! Test guest `wrong-world`: a plain program, i.e. a `wasi:cli/command`
//! component. It is a valid component, but not of a floe world: the host must
//! refuse it with a clear message.

fn main() {
    println!("I am not a floe plugin");
}
