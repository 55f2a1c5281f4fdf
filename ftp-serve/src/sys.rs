//! The two system calls `std` lacks: waiting for readability with a timeout
//! (for `accept` deadlines) and a non-blocking receive on a blocking socket
//! (to notice `ABOR` between chunks of a transfer).

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

/// Waits until `fd` is readable (or, for a listener, has a connection to
/// accept), at most `timeout`. `Ok(false)` on timeout or a signal.
pub(crate) fn wait_readable(fd: &impl AsRawFd, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // Round up so a sub-millisecond remainder does not become a busy loop.
    let millis = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
    // SAFETY: `pfd` is a valid pollfd for the duration of the call and the
    // count (1) matches; poll does not keep the pointer.
    let ready = unsafe { libc::poll(&mut pfd, 1, millis) };
    if ready < 0 {
        let err = io::Error::last_os_error();
        return if err.kind() == io::ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(err)
        };
    }
    Ok(ready > 0)
}

/// Receives what is available on `fd` without blocking. `Ok(None)` when
/// nothing is, `Ok(Some(0))` at end of stream.
pub(crate) fn recv_nonblocking(fd: &impl AsRawFd, buf: &mut [u8]) -> io::Result<Option<usize>> {
    if buf.is_empty() {
        return Ok(None);
    }
    // SAFETY: the pointer and length describe `buf`, which is valid for
    // writes of `buf.len()` bytes and outlives the call.
    let n = unsafe {
        libc::recv(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT,
        )
    };
    if n < 0 {
        let err = io::Error::last_os_error();
        return match err.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
            _ => Err(err),
        };
    }
    Ok(Some(n as usize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn readiness_and_nonblocking_receive() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(!wait_readable(&listener, Duration::from_millis(20)).unwrap());
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        assert!(wait_readable(&listener, Duration::from_secs(5)).unwrap());
        let (server, _) = listener.accept().unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(recv_nonblocking(&server, &mut buf).unwrap(), None);
        client.write_all(b"ABOR\r\n").unwrap();
        assert!(wait_readable(&server, Duration::from_secs(5)).unwrap());
        assert_eq!(recv_nonblocking(&server, &mut buf).unwrap(), Some(6));
        assert_eq!(&buf[..6], b"ABOR\r\n");
        drop(client);
        assert!(wait_readable(&server, Duration::from_secs(5)).unwrap());
        assert_eq!(recv_nonblocking(&server, &mut buf).unwrap(), Some(0));
    }
}
