// Embed ../migrations: cargo rebuilds when any file there changes or is added, and a bad file
// fails the build with its path, line and column.
fn main() {
    shale_core::embed::build("../migrations");
}
