//! Go's encodings as containerd writes them into bbolt values: `binary.PutUvarint`,
//! `binary.PutVarint` and `time.MarshalBinary`.

/// Go's `binary.Uvarint`: the value and the bytes it took, or `None` if it is cut or too long.
pub fn uvarint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut x: u64 = 0;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        if i == 9 && b > 1 {
            return None;
        }
        x |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Some((x, i + 1));
        }
    }
    None
}

/// Go's `binary.Varint` (zig-zag).
pub fn varint(bytes: &[u8]) -> Option<(i64, usize)> {
    let (u, n) = uvarint(bytes)?;
    let x = (u >> 1) as i64;
    Some((if u & 1 != 0 { !x } else { x }, n))
}

/// A time as Go's `time.MarshalBinary` writes it, as Unix seconds and nanoseconds (UTC).
pub fn go_time(bytes: &[u8]) -> Option<(i64, u32)> {
    // version 1: 15 bytes; version 2 adds a byte of offset seconds.
    let version = *bytes.first()?;
    let want = match version {
        1 => 15,
        2 => 16,
        _ => return None,
    };
    if bytes.len() != want {
        return None;
    }
    let sec = i64::from_be_bytes(bytes[1..9].try_into().ok()?);
    let nsec = u32::from_be_bytes(bytes[9..13].try_into().ok()?);
    if nsec >= 1_000_000_000 {
        return None;
    }
    // Go counts seconds from January 1 of year 1.
    const UNIX_FROM_YEAR_ONE: i64 = 62_135_596_800;
    Some((sec.checked_sub(UNIX_FROM_YEAR_ONE)?, nsec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_varints_round_trip_known_encodings() {
        assert_eq!(uvarint(&[0x00]), Some((0, 1)));
        assert_eq!(uvarint(&[0xac, 0x02]), Some((300, 2)));
        assert_eq!(uvarint(&[0xff; 10]), None);
        assert_eq!(uvarint(&[0x80]), None);
        assert_eq!(varint(&[0x01]), Some((-1, 1)));
        assert_eq!(varint(&[0x04]), Some((2, 1)));
    }

    #[test]
    fn go_time_reads_marshal_binary() {
        // time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC).MarshalBinary()
        let bytes = [1, 0, 0, 0, 14, 221, 37, 116, 37, 0, 0, 0, 6, 255, 255];
        assert_eq!(go_time(&bytes), Some((1_704_164_645, 6)));
        assert_eq!(go_time(&bytes[..14]), None);
    }
}
