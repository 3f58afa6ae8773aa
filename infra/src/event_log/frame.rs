//! On-disk framing of one event: `magic u32 | length u32 | crc32 u32 |
//! payload (JSON envelope)`, little-endian. The checksum covers the payload;
//! the magic lets recovery tell a torn tail from damage in the middle.

use events::Envelope;

pub const MAGIC: u32 = 0x5052_4c59; // "PRLY"
pub const HEADER_LEN: usize = 12;
/// The largest payload a frame holds: encoding refuses larger events, and
/// decoding treats a larger length as corrupt rather than allocating it.
pub const MAX_PAYLOAD: usize = 16 << 20;

/// An event that no frame can hold.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("an event of {len} bytes is larger than the {MAX_PAYLOAD} bytes a log frame holds")]
pub struct TooLarge {
    pub len: usize,
}

/// Appends the frame of `envelope` to `out`; `out` is unchanged if the
/// event is too large to be read back.
pub fn encode(envelope: &Envelope, out: &mut Vec<u8>) -> Result<(), TooLarge> {
    let payload = serde_json::to_vec(envelope).expect("envelopes serialize to JSON");
    if payload.len() > MAX_PAYLOAD {
        return Err(TooLarge { len: payload.len() });
    }
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A whole, intact frame: its payload and its total length.
    Frame { payload: &'a [u8], len: usize },
    /// The buffer ends inside the frame.
    Incomplete,
    /// Bad magic, impossible length or checksum mismatch.
    Corrupt(&'static str),
}

pub fn decode(buf: &[u8]) -> Decoded<'_> {
    if buf.len() < HEADER_LEN {
        return Decoded::Incomplete;
    }
    let word = |i: usize| u32::from_le_bytes(buf[i..i + 4].try_into().expect("4 bytes"));
    if word(0) != MAGIC {
        return Decoded::Corrupt("bad magic");
    }
    let len = word(4) as usize;
    if len > MAX_PAYLOAD {
        return Decoded::Corrupt("impossible length");
    }
    if buf.len() < HEADER_LEN + len {
        return Decoded::Incomplete;
    }
    let payload = &buf[HEADER_LEN..HEADER_LEN + len];
    if crc32fast::hash(payload) != word(8) {
        return Decoded::Corrupt("checksum mismatch");
    }
    Decoded::Frame {
        payload,
        len: HEADER_LEN + len,
    }
}

/// Is there an intact frame anywhere in `buf`? Used after a bad frame to
/// tell a torn tail (nothing intact follows) from damage in the middle.
pub fn any_intact_frame(buf: &[u8]) -> bool {
    let magic = MAGIC.to_le_bytes();
    (0..buf.len().saturating_sub(HEADER_LEN))
        .filter(|&i| buf[i..].starts_with(&magic))
        .any(|i| matches!(decode(&buf[i..]), Decoded::Frame { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use events::EventMeta;

    fn sample() -> Envelope {
        let meta = EventMeta {
            tenant_id: "1000".into(),
            actor_user_id: "alice".into(),
            operation_id: "op".into(),
            occurred_at: 1,
        };
        let event = events::DomainEvent::UserProfileUpdated(events::user::UserProfileUpdated {
            user_id: "alice".into(),
            nickname: Some("A".into()),
            face_url: None,
            ex: None,
            notified_user_ids: Vec::new(),
        });
        Envelope::new(uuid::Uuid::nil(), "user:1000:alice".into(), 1, &meta, &event)
    }

    #[test]
    fn a_frame_decodes_to_its_payload() {
        let mut buf = Vec::new();
        encode(&sample(), &mut buf).unwrap();
        let Decoded::Frame { payload, len } = decode(&buf) else {
            panic!("not a frame")
        };
        assert_eq!(len, buf.len());
        assert_eq!(serde_json::from_slice::<Envelope>(payload).unwrap(), sample());
    }

    #[test]
    fn every_truncation_is_incomplete_and_every_bit_flip_is_detected() {
        let mut buf = Vec::new();
        encode(&sample(), &mut buf).unwrap();
        for cut in 0..buf.len() {
            assert_eq!(decode(&buf[..cut]), Decoded::Incomplete, "cut at {cut}");
        }
        for i in 0..buf.len() {
            let mut bad = buf.clone();
            bad[i] ^= 0x10;
            assert!(!matches!(decode(&bad), Decoded::Frame { .. }), "flip at {i}");
        }
    }

    fn sample_of_payload_len(len: usize) -> Envelope {
        let mut envelope = sample();
        let base = serde_json::to_vec(&envelope).unwrap().len();
        envelope.operation_id.push_str(&"x".repeat(len - base));
        assert_eq!(serde_json::to_vec(&envelope).unwrap().len(), len);
        envelope
    }

    #[test]
    fn the_largest_readable_event_is_encoded_and_a_larger_one_refused() {
        let mut buf = Vec::new();
        encode(&sample_of_payload_len(MAX_PAYLOAD), &mut buf).unwrap();
        assert!(matches!(decode(&buf), Decoded::Frame { len, .. } if len == buf.len()));
        let mut out = b"earlier".to_vec();
        assert_eq!(
            encode(&sample_of_payload_len(MAX_PAYLOAD + 1), &mut out),
            Err(TooLarge { len: MAX_PAYLOAD + 1 })
        );
        assert_eq!(out, b"earlier", "a refused event leaves the buffer as it was");
    }

    #[test]
    fn intact_frames_are_found_after_garbage() {
        let mut buf = vec![0xAB; 37];
        assert!(!any_intact_frame(&buf));
        encode(&sample(), &mut buf).unwrap();
        assert!(any_intact_frame(&buf));
    }
}
