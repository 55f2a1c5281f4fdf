//! Micro-benchmarks of the reply and listing parsers, in bytes per second.
//!
//! Run with `cargo bench -p ftp-mirror-benches --bench parsers`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ftp_proto::listing::{parse_list, parse_mlsd, ListContext};
use ftp_proto::reply::{parse, Limits, Status};

/// 2024-11-21 00:00:00 UTC: a fixed "now" for the LIST year guess.
const NOW: i64 = 1_732_147_200;

fn replies() -> Vec<u8> {
    let mut buf = Vec::new();
    for i in 0..200u32 {
        buf.extend_from_slice(b"150 Opening BINARY mode data connection.\r\n");
        buf.extend_from_slice(b"226 Transfer complete.\r\n");
        buf.extend_from_slice(
            format!(
                "227 Entering Passive Mode (127,0,0,1,{},{}).\r\n",
                150 + i % 50,
                i % 256
            )
            .as_bytes(),
        );
        buf.extend_from_slice(format!("213 {}\r\n", 1_000_000 + i).as_bytes());
    }
    buf.extend_from_slice(b"211-Features:\r\n MDTM\r\n MLST type*;size*;modify*;perm*;\r\n REST STREAM\r\n SIZE\r\n UTF8\r\n EPSV\r\n211 End\r\n");
    buf
}

fn mlsd_listing() -> Vec<u8> {
    let mut buf = Vec::new();
    buf.extend_from_slice(b"type=cdir;modify=20241121100500;perm=el; .\r\n");
    for i in 0..2000u32 {
        if i % 20 == 0 {
            buf.extend_from_slice(
                format!(
                    "type=dir;modify=2024{:02}{:02}101500;perm=el; dir{i:04}\r\n",
                    i % 12 + 1,
                    i % 28 + 1
                )
                .as_bytes(),
            );
        } else {
            buf.extend_from_slice(
                format!(
                    "type=file;size={};modify=2024{:02}{:02}101500.123;perm=r;unix.mode=0644; file{i:06}.dat\r\n",
                    1024 + i * 7,
                    i % 12 + 1,
                    i % 28 + 1
                )
                .as_bytes(),
            );
        }
    }
    buf
}

fn unix_listing() -> Vec<u8> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut buf = b"total 4000\r\n".to_vec();
    for i in 0..2000u32 {
        let month = MONTHS[(i % 12) as usize];
        let day = i % 28 + 1;
        let line = match i % 20 {
            0 => format!("drwxr-xr-x    2 ftp      ftp          4096 {month} {day:>2}  2023 dir{i:04}\r\n"),
            1 => format!("lrwxrwxrwx    1 ftp      ftp             7 {month} {day:>2} 10:15 link{i:04} -> file{i:06}.dat\r\n"),
            _ => format!("-rw-r--r--    1 ftp      ftp      {:>8} {month} {day:>2} 10:15 file{i:06}.dat\r\n", 1024 + i * 7),
        };
        buf.extend_from_slice(line.as_bytes());
    }
    buf
}

fn dos_listing() -> Vec<u8> {
    let mut buf = Vec::new();
    for i in 0..2000u32 {
        let line = if i % 20 == 0 {
            format!(
                "{:02}-{:02}-24  10:15AM       <DIR>          dir{i:04}\r\n",
                i % 12 + 1,
                i % 28 + 1
            )
        } else {
            format!(
                "{:02}-{:02}-24  03:07PM             {:>8} file{i:06}.dat\r\n",
                i % 12 + 1,
                i % 28 + 1,
                1024 + i * 7
            )
        };
        buf.extend_from_slice(line.as_bytes());
    }
    buf
}

fn bench_reply(c: &mut Criterion) {
    let input = replies();
    let limits = Limits::default();
    let mut g = c.benchmark_group("reply");
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("parse stream of 801 replies", |b| {
        b.iter(|| {
            let mut pos = 0;
            let mut n = 0;
            while let Ok(Status::Complete((reply, used))) = parse(black_box(&input[pos..]), &limits)
            {
                black_box(reply);
                pos += used;
                n += 1;
            }
            assert_eq!(pos, input.len());
            n
        })
    });
    g.finish();
}

fn bench_listings(c: &mut Criterion) {
    let ctx = ListContext::at(NOW);
    let mlsd = mlsd_listing();
    let unix = unix_listing();
    let dos = dos_listing();
    let mut g = c.benchmark_group("listing");
    g.throughput(Throughput::Bytes(mlsd.len() as u64));
    g.bench_function("parse_mlsd 2,000 entries", |b| {
        b.iter(|| parse_mlsd(black_box(&mlsd)).len())
    });
    g.throughput(Throughput::Bytes(unix.len() as u64));
    g.bench_function("parse_list unix 2,000 entries", |b| {
        b.iter(|| parse_list(black_box(&unix), &ctx).len())
    });
    g.throughput(Throughput::Bytes(dos.len() as u64));
    g.bench_function("parse_list dos 2,000 entries", |b| {
        b.iter(|| parse_list(black_box(&dos), &ctx).len())
    });
    g.finish();
}

criterion_group!(benches, bench_reply, bench_listings);
criterion_main!(benches);
