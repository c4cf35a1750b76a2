//! Turning a static-pie executable into one linked at a fixed address:
//! every RELATIVE relocation written into the file, so that the pages
//! holding them are the file's own (clean, shared by every process that
//! maps the file) instead of a private copy each process relocates.
//!
//! Only what the kernel reads moves: the header's type and entry and the
//! PT_LOAD segments' addresses. glibc's start of a static-pie still takes
//! the running address of its ELF header as its load bias and adds it to
//! every other address it reads (PT_TLS, PT_DYNAMIC, PT_GNU_RELRO, the
//! dynamic section's pointers), so those stay as linked. The relocations
//! glibc would still apply are cut down to the IRELATIVE ones (CPU-chosen
//! functions, resolved at each start); the applied ones would only write
//! the same values again, dirtying the pages. DT_DEBUG goes too: glibc
//! writes its debugger link there, into a page otherwise left clean.

use libc::{EM_X86_64, ET_DYN, ET_EXEC, PT_DYNAMIC, PT_INTERP, PT_LOAD};

use crate::error::{Error, Result};

const DT_NULL: u64 = 0;
const DT_RELA: u64 = 7;
const DT_RELASZ: u64 = 8;
const DT_RELAENT: u64 = 9;
const DT_DEBUG: u64 = 21;
const DT_RELACOUNT: u64 = 0x6fff_fff9;
const R_X86_64_RELATIVE: u32 = 8;
const R_X86_64_IRELATIVE: u32 = 37;
const PHDR_SIZE: usize = 56;
const RELA_SIZE: usize = 24;

fn bad(why: &str) -> Error {
    Error::new(libc::ENOEXEC, format!("Cannot prelink the monitor: {why}"))
}

fn u16_at(b: &[u8], at: usize) -> Result<u16> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| bad("truncated file"))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes(s.try_into().expect("four bytes")))
        .ok_or_else(|| bad("truncated file"))
}

fn u64_at(b: &[u8], at: usize) -> Result<u64> {
    b.get(at..at + 8)
        .map(|s| u64::from_le_bytes(s.try_into().expect("eight bytes")))
        .ok_or_else(|| bad("truncated file"))
}

fn put_u64(b: &mut [u8], at: usize, value: u64) {
    b[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

fn usize_of(v: u64) -> Result<usize> {
    usize::try_from(v).map_err(|_| bad("offset out of range"))
}

/// A program header: where it sits in the file and what it says.
struct Segment {
    at: usize,
    kind: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
}

fn segments(b: &[u8]) -> Result<Vec<Segment>> {
    let phoff = usize_of(u64_at(b, 32)?)?;
    if usize::from(u16_at(b, 54)?) != PHDR_SIZE {
        return Err(bad("unexpected program header size"));
    }
    (0..usize::from(u16_at(b, 56)?))
        .map(|i| {
            let at = phoff + i * PHDR_SIZE;
            Ok(Segment {
                at,
                kind: u32_at(b, at)?,
                offset: u64_at(b, at + 8)?,
                vaddr: u64_at(b, at + 16)?,
                filesz: u64_at(b, at + 32)?,
            })
        })
        .collect()
}

/// The file offset of the `len` bytes at `vaddr`, which must lie in what
/// a PT_LOAD segment maps from the file (not its zero-filled tail).
fn file_offset(image: &[u8], loads: &[&Segment], vaddr: u64, len: u64) -> Result<usize> {
    let outside = || bad("an address outside the file's contents");
    let end = vaddr.checked_add(len).ok_or_else(outside)?;
    let segment = loads
        .iter()
        .find(|s| vaddr >= s.vaddr && end <= s.vaddr.saturating_add(s.filesz))
        .ok_or_else(outside)?;
    let at = usize_of(vaddr - segment.vaddr + segment.offset)?;
    match at.checked_add(usize_of(len)?) {
        Some(end) if end <= image.len() => Ok(at),
        _ => Err(outside()),
    }
}

/// Whether `image` is an x86-64 static-pie executable (position-
/// independent, no program interpreter): the only kind this relocates.
pub fn is_static_pie(image: &[u8]) -> bool {
    image.len() > 64
        && image[..4] == *b"\x7fELF"
        && image[4] == 2 // 64-bit
        && image[5] == 1 // little-endian
        && u16_at(image, 16).ok() == Some(ET_DYN)
        && u16_at(image, 18).ok() == Some(EM_X86_64)
        && segments(image).is_ok_and(|s| s.iter().all(|s| s.kind != PT_INTERP))
}

/// `image` (a static-pie executable) linked at `base`, a page-aligned
/// address: see the module's comment.
pub fn relocate(image: &[u8], base: u64) -> Result<Vec<u8>> {
    if !is_static_pie(image) {
        return Err(bad("not an x86-64 static-pie executable"));
    }
    if !base.is_multiple_of(4096) {
        return Err(bad("the base address is not page-aligned"));
    }
    let mut out = image.to_vec();
    let all = segments(image)?;
    let loads: Vec<&Segment> = all.iter().filter(|s| s.kind == PT_LOAD).collect();
    let dynamic = all
        .iter()
        .find(|s| s.kind == PT_DYNAMIC)
        .ok_or_else(|| bad("no dynamic section"))?;

    // The dynamic section: where the relocations are and its entries to mend.
    let mut rela = None;
    let mut rela_size = None;
    let mut rela_size_at = 0;
    let mut relative_count_at = None;
    let mut debug_at = None;
    let mut at = usize_of(dynamic.offset)?;
    loop {
        let (tag, value) = (u64_at(image, at)?, u64_at(image, at + 8)?);
        match tag {
            DT_NULL => break,
            DT_RELA => rela = Some(value),
            DT_RELASZ => (rela_size, rela_size_at) = (Some(value), at + 8),
            DT_RELAENT if value != RELA_SIZE as u64 => return Err(bad("unexpected RELA size")),
            DT_RELACOUNT => relative_count_at = Some(at + 8),
            DT_DEBUG => debug_at = Some(at),
            _ => {}
        }
        at += 16;
    }
    let (Some(rela), Some(rela_size)) = (rela, rela_size) else {
        return Err(bad("no relocation table"));
    };
    let table = file_offset(image, &loads, rela, rela_size)?;

    // Apply the RELATIVE ones; keep the IRELATIVE ones, packed first.
    let mut kept = Vec::new();
    for i in 0..usize_of(rela_size)? / RELA_SIZE {
        let entry = table + i * RELA_SIZE;
        let place = u64_at(image, entry)?;
        let kind = u32_at(image, entry + 8)?;
        let addend = u64_at(image, entry + 16)?;
        match kind {
            R_X86_64_RELATIVE => put_u64(
                &mut out,
                file_offset(image, &loads, place, 8)?,
                base.wrapping_add(addend),
            ),
            R_X86_64_IRELATIVE => kept.push(entry),
            other => return Err(bad(&format!("relocation type {other} is not handled"))),
        }
    }
    for (i, entry) in kept.iter().enumerate() {
        let to = table + i * RELA_SIZE;
        out.copy_within(*entry..*entry + RELA_SIZE, to);
    }
    put_u64(&mut out, rela_size_at, (kept.len() * RELA_SIZE) as u64);
    if let Some(at) = relative_count_at {
        put_u64(&mut out, at, 0);
    }
    if let Some(debug) = debug_at {
        // The entries after it, DT_NULL included, move up one.
        out.copy_within(debug + 16..at + 16, debug);
    }

    // What the kernel reads: an executable at fixed addresses.
    out[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
    let entry = u64_at(image, 24)?;
    put_u64(&mut out, 24, base.wrapping_add(entry));
    for load in &loads {
        put_u64(&mut out, load.at + 16, base.wrapping_add(load.vaddr));
        let paddr = u64_at(image, load.at + 24)?;
        put_u64(&mut out, load.at + 24, base.wrapping_add(paddr));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: u64 = 0x5555_0000_0000;

    /// A minimal static-pie image: one PT_LOAD mapping the whole file at 0,
    /// a dynamic section at 0x200 and three relocations at 0x300, for
    /// pointers at 0x400 and 0x408 and a CPU-chosen one at 0x410.
    fn image(third_kind: u32) -> Vec<u8> {
        let mut b = vec![0u8; 0x500];
        b[..6].copy_from_slice(b"\x7fELF\x02\x01");
        b[16..18].copy_from_slice(&ET_DYN.to_le_bytes());
        b[18..20].copy_from_slice(&EM_X86_64.to_le_bytes());
        put_u64(&mut b, 24, 0x100); // entry
        put_u64(&mut b, 32, 64); // program headers
        b[54..56].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
        b[56..58].copy_from_slice(&2u16.to_le_bytes());
        let phdr = |b: &mut Vec<u8>, at: usize, kind: u32, offset: u64, size: u64| {
            b[at..at + 4].copy_from_slice(&kind.to_le_bytes());
            put_u64(b, at + 8, offset);
            put_u64(b, at + 16, offset);
            put_u64(b, at + 24, offset);
            put_u64(b, at + 32, size);
            put_u64(b, at + 40, size);
        };
        phdr(&mut b, 64, PT_LOAD, 0, 0x500);
        phdr(&mut b, 64 + PHDR_SIZE, PT_DYNAMIC, 0x200, 0x60);
        for (i, (tag, value)) in [
            (DT_DEBUG, 0),
            (DT_RELA, 0x300),
            (DT_RELASZ, 3 * RELA_SIZE as u64),
            (DT_RELAENT, RELA_SIZE as u64),
            (DT_RELACOUNT, 2),
        ]
        .into_iter()
        .enumerate()
        {
            put_u64(&mut b, 0x200 + 16 * i, tag);
            put_u64(&mut b, 0x208 + 16 * i, value);
        }
        for (i, (place, kind, addend)) in [
            (0x400, R_X86_64_RELATIVE, 0x1234),
            (0x408, R_X86_64_RELATIVE, 0x40),
            (0x410, third_kind, 0x180),
        ]
        .into_iter()
        .enumerate()
        {
            put_u64(&mut b, 0x300 + 24 * i, place);
            put_u64(&mut b, 0x308 + 24 * i, u64::from(kind));
            put_u64(&mut b, 0x310 + 24 * i, addend);
        }
        b
    }

    #[test]
    fn relative_relocations_are_written_into_the_file() {
        let input = image(R_X86_64_IRELATIVE);
        assert!(is_static_pie(&input));
        let out = relocate(&input, BASE).unwrap();
        assert_eq!(u16_at(&out, 16).unwrap(), ET_EXEC);
        assert_eq!(u64_at(&out, 24).unwrap(), BASE + 0x100);
        // The PT_LOAD moved; the dynamic segment, read by glibc, did not.
        assert_eq!(u64_at(&out, 64 + 16).unwrap(), BASE);
        assert_eq!(u64_at(&out, 64 + 24).unwrap(), BASE);
        assert_eq!(u64_at(&out, 64 + PHDR_SIZE + 16).unwrap(), 0x200);
        assert_eq!(u64_at(&out, 0x400).unwrap(), BASE + 0x1234);
        assert_eq!(u64_at(&out, 0x408).unwrap(), BASE + 0x40);
        // Only the IRELATIVE one is left, first in the table, untouched;
        // the dynamic section lost DT_DEBUG (its first entry) and ends as it did.
        let dynamic: Vec<(u64, u64)> = (0..5)
            .map(|i| {
                (
                    u64_at(&out, 0x200 + 16 * i).unwrap(),
                    u64_at(&out, 0x208 + 16 * i).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            dynamic,
            [
                (DT_RELA, 0x300),
                (DT_RELASZ, RELA_SIZE as u64),
                (DT_RELAENT, RELA_SIZE as u64),
                (DT_RELACOUNT, 0),
                (DT_NULL, 0)
            ]
        );
        assert_eq!(out[0x300..0x318], input[0x330..0x348]);
        assert_eq!(u64_at(&out, 0x410).unwrap(), 0);
        assert!(!is_static_pie(&out));
    }

    #[test]
    fn what_it_cannot_relocate_is_refused() {
        let glob_dat = 6;
        assert_eq!(
            relocate(&image(glob_dat), BASE).unwrap_err().errno,
            libc::ENOEXEC
        );
        assert!(relocate(&image(R_X86_64_RELATIVE), BASE + 8).is_err());
        let mut dynamic_exe = image(R_X86_64_RELATIVE);
        dynamic_exe[64 + PHDR_SIZE..68 + PHDR_SIZE].copy_from_slice(&PT_INTERP.to_le_bytes());
        assert!(!is_static_pie(&dynamic_exe));
        let mut outside = image(R_X86_64_RELATIVE);
        put_u64(&mut outside, 0x300, 0x4fc); // crosses the file's end
        assert!(relocate(&outside, BASE).is_err());
        assert!(relocate(&outside[..0x300], BASE).is_err());
    }
}
