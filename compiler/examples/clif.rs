fn main() {
    let path = std::env::args().nth(1).unwrap();
    let _ = reward::compile(reward::Source::file(path), &Default::default());
}
