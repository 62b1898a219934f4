//! Provide a minimal linker script (memory map + entry point), so the
//! binary links without cortex-m-rt; with `defmt`, also pull in defmt.x.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let mut script = String::from(
        "MEMORY { FLASH : ORIGIN = 0x08000000, LENGTH = 1024K\n         RAM : ORIGIN = 0x20000000, LENGTH = 128K }\n\
         ENTRY(reset)\n\
         SECTIONS {\n  .text : { KEEP(*(.text.reset)) *(.text .text.*) } > FLASH\n  .rodata : { *(.rodata .rodata.*) } > FLASH\n  .data : { *(.data .data.*) } > RAM AT > FLASH\n  .bss (NOLOAD) : { *(.bss .bss.*) } > RAM\n}\n",
    );
    if env::var_os("CARGO_FEATURE_DEFMT").is_some() {
        script.push_str("INCLUDE defmt.x\n");
    }
    fs::write(out.join("link.x"), script).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=build.rs");
}
