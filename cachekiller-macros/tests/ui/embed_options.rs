use cachekiller_macros::cdnembed;

fn main() {
    let _ = cdnembed!(embed = "sometimes");
    let _ = cdnembed!(embed_exclude = ["a{b"]);
    let _ = cdnembed!(embed_exclude = [3]);
    let _ = cdnembed!(embed_include = "*.css");
    let _ = cdnembed!(embed_max_bytes = 0);
    let _ = cdnembed!(embed_hidden_files = "yes");
    let _ = cdnembed!(mode = "content");
    let _ = cdnembed!("static");
}
