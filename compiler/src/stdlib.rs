//! The standard library modules: each is a `.reward` file embedded in the binary, plus the native
//! builtins the builtins table assigns to it.

pub struct StdModule {
    pub name: &'static str,
    pub source: &'static str,
}

pub static MODULES: &[StdModule] = &[
    StdModule {
        name: "text",
        source: include_str!("../../stdlib/text.reward"),
    },
    StdModule {
        name: "similarity",
        source: include_str!("../../stdlib/similarity.reward"),
    },
    StdModule {
        name: "geometry",
        source: include_str!("../../stdlib/geometry.reward"),
    },
    StdModule {
        name: "extract",
        source: include_str!("../../stdlib/extract.reward"),
    },
    StdModule {
        name: "math",
        source: include_str!("../../stdlib/math.reward"),
    },
    StdModule {
        name: "format",
        source: include_str!("../../stdlib/format.reward"),
    },
    StdModule {
        name: "structured",
        source: include_str!("../../stdlib/structured.reward"),
    },
    StdModule {
        name: "shaping",
        source: include_str!("../../stdlib/shaping.reward"),
    },
    StdModule {
        name: "instructions",
        source: include_str!("../../stdlib/instructions.reward"),
    },
];

pub fn find(name: &str) -> Option<&'static StdModule> {
    MODULES.iter().find(|m| m.name == name)
}
