//! Log positions. The log is split into partitions (one for the embedded
//! log, one per Kafka partition); a position names an event by partition and
//! 1-based offset within it, packed into one `u64` so it travels as a plain
//! number (`logPosition`, `X-Parley-Position`). Within a partition positions
//! strictly increase; the embedded log has only partition 0, where the
//! position is simply 1, 2, 3, ...

const OFFSET_BITS: u32 = 40;
const OFFSET_MASK: u64 = (1 << OFFSET_BITS) - 1;

/// The position of the event at 1-based `offset` of `partition`.
pub fn compose(partition: u32, offset: u64) -> u64 {
    (u64::from(partition) << OFFSET_BITS) | (offset & OFFSET_MASK)
}

pub fn partition_of(position: u64) -> u32 {
    (position >> OFFSET_BITS) as u32
}

pub fn offset_of(position: u64) -> u64 {
    position & OFFSET_MASK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_pack_partition_and_offset() {
        assert_eq!(compose(0, 42), 42, "partition 0 positions are plain offsets");
        let p = compose(7, 123_456);
        assert_eq!((partition_of(p), offset_of(p)), (7, 123_456));
        assert!(compose(3, 10) < compose(3, 11));
    }
}
