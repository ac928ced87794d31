//! The service's memory stays within its one bound (64 MiB by default: bodies cached or held
//! by responses, compressed variants, compressions in flight) plus a fixed overhead, measured
//! as the resident set of the axum example's release build (`VmHWM`, the high-water mark, from
//! `/proc/<pid>/status`) under the loads that went far past it before:
//!
//! - 12 concurrent first requests, each for another 3.9 MB script with `Accept-Encoding: br`
//!   (12 Brotli compressions at once: 932 MB before);
//! - 40 slow clients holding 40 other 3.9 MB scripts' responses unread (166 MB before);
//! - 12,650 distinct 8 KB files requested once each (a plateau of 154 MB before);
//! - 300 clients with 4 KiB receive buffers that never read, on ten 6 MB files sent from disk
//!   (past the in-memory limit): each held a 256 KiB chunk in hyper's write queue (283 MB
//!   with 400 such clients before chunks got their share of the bound).
//!
//! The files are written after the build, as generated files are: the manifest does not name
//! them, and nothing of them is compiled in.
//!
//! The server runs with `MALLOC_ARENA_MAX=2`, as the guide advises (guide/serving.md): glibc's default of eight
//! allocator arenas per core keeps what each thread of the runtime's blocking pool freed in
//! that thread's arena, which the bound cannot see (measured on this load: 174 MiB with the
//! default, 99 with 2 arenas, 85 with 1; compressions already run on threads of their own).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use cachekiller_tests::oracle::git;
use cachekiller_tests::scratch::ScratchCrate;
use cachekiller_tests::serving::{compressible_script, free_port, http_get_with, Server};

/// The bound the example runs with (`StaticFiles`' default).
const BOUND: u64 = 64 << 20;
/// What the process holds besides: the runtime's threads and their allocator arenas, the
/// cache's bookkeeping (10,000 entries), connection buffers, the chunks being sent.
const OVERHEAD: u64 = 48 << 20;

/// `(VmHWM, VmRSS)` of process `pid`, in bytes.
fn memory_of(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map(|value| value.trim().trim_end_matches(" kB").parse::<u64>().unwrap() * 1024)
            .unwrap()
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn write_files(static_dir: &Path) {
    for index in 0..52 {
        let path = static_dir.join(format!("big/{index}.js"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, compressible_script(&index.to_string(), 3_900_000)).unwrap();
    }
    for index in 0..10 {
        let path = static_dir.join(format!("large/{index}.js"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, compressible_script(&index.to_string(), 6_000_000)).unwrap();
    }
    for index in 0..12_650 {
        let path = static_dir.join(format!("many/{}/{index}.js", index / 500));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, compressible_script(&index.to_string(), 8 * 1024)).unwrap();
    }
}

#[test]
fn the_resident_set_stays_within_the_bound_and_a_fixed_overhead() {
    let repository = tempfile::tempdir().unwrap();
    git(repository.path(), &["init", "-q"]);
    let site =
        ScratchCrate::fixture_copy("axum-site", &repository.path().join("site"), "memory_bound")
            .in_release();
    git(repository.path(), &["add", "-A"]);
    git(repository.path(), &["commit", "-q", "-m", "site"]);
    let _ = site.build();
    write_files(&site.dir.join("static"));

    let port = free_port();
    let server = Server::start_with_env(&site.binary(), &[("MALLOC_ARENA_MAX", "2")], port);
    let pid = server.pid();
    // Warm: the runtime and the page, so that what follows is what the loads add.
    let _ = http_get_with(port, "/", &[]);
    let (idle, _) = memory_of(pid);

    // 12 first requests at once, each for another file, each asking for Brotli.
    let compressions: Vec<_> = (0..12)
        .map(|index| {
            std::thread::spawn(move || {
                let response = http_get_with(
                    port,
                    &format!("/static/big/{index}.js"),
                    &[("Accept-Encoding", "br")],
                );
                assert_eq!(response.status, 200);
            })
        })
        .collect();
    for compression in compressions {
        compression.join().unwrap();
    }
    let (after_compressions, _) = memory_of(pid);

    // 40 clients that ask for another file each and read one byte of it.
    let slow: Vec<TcpStream> = (12..52)
        .map(|index| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            write!(
                stream,
                "GET /static/big/{index}.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            )
            .unwrap();
            let mut first = [0; 1];
            stream.read_exact(&mut first).unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let (with_slow_clients, _) = memory_of(pid);
    drop(slow);

    // 300 clients that never read, on files sent from disk, with receive buffers too small
    // for the kernel to take the bodies off the server. Most of them wait for chunk room.
    let stalled: Vec<TcpStream> = (0..300)
        .map(|index| {
            let socket =
                socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
            socket.set_recv_buffer_size(4096).unwrap();
            let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            socket.connect(&address.into()).unwrap();
            let mut stream = TcpStream::from(socket);
            write!(
                stream,
                "GET /static/large/{}.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                index % 10
            )
            .unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let (with_stalled_clients, _) = memory_of(pid);
    drop(stalled);
    // The chunks they held are given back: a file sent from disk is answered again.
    let response = http_get_with(port, "/static/large/3.js", &[]);
    assert_eq!(response.status, 200);
    assert_eq!(response.body.len(), 6_000_000);

    // 12,650 distinct small files, once each.
    for index in 0..12_650 {
        let response = http_get_with(
            port,
            &format!("/static/many/{}/{index}.js", index / 500),
            &[("Accept-Encoding", "br, gzip")],
        );
        assert_eq!(response.status, 200);
    }
    let (high_water, resident) = memory_of(pid);
    let mib = |bytes: u64| f64::from(u32::try_from(bytes >> 10).unwrap_or(u32::MAX)) / 1024.0;
    eprintln!(
        "resident set: idle {:.1} MiB; high-water after 12 compressions {:.1}, with 40 slow \
         clients {:.1}, with 300 stalled clients {:.1}, after 12,650 files {:.1} (now {:.1}); \
         bound {:.0} + overhead {:.0}",
        mib(idle),
        mib(after_compressions),
        mib(with_slow_clients),
        mib(with_stalled_clients),
        mib(high_water),
        mib(resident),
        mib(BOUND),
        mib(OVERHEAD)
    );
    assert!(
        high_water <= idle + BOUND + OVERHEAD,
        "the high-water mark {:.1} MiB is past idle {:.1} + bound {:.0} + overhead {:.0}",
        mib(high_water),
        mib(idle),
        mib(BOUND),
        mib(OVERHEAD)
    );
}
