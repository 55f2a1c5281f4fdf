//! Lists a directory and fetches one file: `cargo run -p ftp-proto --example fetch -- HOST PORT DIR FILE`.

use ftp_proto::client::{Client, Config};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, host, port, dir, file] = &args[..] else {
        return Err("usage: fetch HOST PORT DIR FILE".into());
    };
    let mut ftp = Client::connect(host, port.parse()?, Config::default())?;
    ftp.login_anonymous()?;
    for e in ftp.mlsd(Some(dir.as_bytes()))? {
        println!("{:?}", e);
    }
    let mut out = Vec::new();
    let n = ftp.retr(file, 0, &mut out, &mut |_| {})?;
    println!("fetched {n} bytes; reusable: {}", ftp.is_reusable());
    let err = ftp.retr("/missing", 0, &mut Vec::new(), &mut |_| {});
    println!("missing: {err:?}; reusable: {}", ftp.is_reusable());
    ftp.quit()?;
    Ok(())
}
