//! `morph-render devices`: the GPU adapters wgpu sees and what Auto picks.

use serde_json::json;

use crate::Failure;
use crate::args::Global;

/// Lists adapters, best first, then says which backend `--platform auto`
/// would use and why.
pub fn run(global: &Global) -> Result<(), Failure> {
    let adapters = morph::devices();
    let engine = morph::Engine::new(morph_core::params::RenderingPlatform::Auto)?;
    let auto = engine.backend().to_string();
    let reason = engine.cpu_reason();
    if global.json {
        let list: Vec<_> = adapters
            .iter()
            .map(|a| {
                json!({
                    "name": a.name,
                    "backend": format!("{:?}", a.backend),
                    "device_type": format!("{:?}", a.device_type),
                    "driver": a.driver,
                    "driver_info": a.driver_info,
                    "hardware": a.hardware,
                })
            })
            .collect();
        println!(
            "{}",
            json!({"adapters": list, "auto": auto, "auto_cpu_reason": reason})
        );
        return Ok(());
    }
    if adapters.is_empty() {
        println!("no GPU adapters found (install a Vulkan driver, e.g. mesa-vulkan-drivers)");
    }
    for a in &adapters {
        let kind = if a.hardware { "hardware" } else { "software" };
        println!("{a}  [{kind}]");
    }
    match reason {
        Some(r) => println!("auto: {auto} ({r})"),
        None => println!("auto: {auto}"),
    }
    Ok(())
}
