fn main() {
    let path = std::env::args().nth(1).unwrap();
    let spec = reward::compile(reward::Source::file(&path), &Default::default()).unwrap();
    println!("{}", spec.jit_text().unwrap());
}
