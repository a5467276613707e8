//! The simulated electronics catalog: categories with their brands, series, variants and the
//! specifications a real shop's feed carries (connectivity, screen size, resolution, panel,
//! switch type, noise cancelling, storage, wattage, what an accessory fits…), so search has
//! attributes to match the way shoppers describe products. Owns only the catalog's data and how
//! one product is made from it; shopper behaviour lives in the parent module.

use std::collections::BTreeMap;

/// One product line of a brand: its name and specifications as `key=value;key=value`
/// (overriding the category's).
pub(super) type Series = (&'static str, &'static str);

pub(super) struct Category {
    pub code: &'static str,
    pub weight: f64,
    /// Median price, EUR.
    pub price: f64,
    pub brands: &'static [(&'static str, &'static [Series])],
    pub variants: &'static [&'static str],
    /// The attribute each variant sets; `a/b` splits a variant `x/y` into two.
    pub variant_key: &'static str,
    /// Specifications every product of the category has.
    pub specs: &'static str,
    /// Products this category's items are made for (cases: phones), as `Brand Model`; the title
    /// says "<noun> for <model>" and `compatible_with` names it.
    pub fits: Option<(&'static str, &'static [&'static str])>,
    /// Categories whose items are bought with this one.
    pub accessories: &'static [&'static str],
    pub consumable: bool,
}

const PHONES: &[&str] = &[
    "Samsung Galaxy S23",
    "Samsung Galaxy S24 Ultra",
    "Samsung Galaxy A54",
    "Apple iPhone 15",
    "Apple iPhone 15 Pro",
    "Apple iPhone 14",
    "Google Pixel 8",
    "Google Pixel 8 Pro",
    "Xiaomi Redmi Note 13",
];

pub(super) const CATEGORIES: &[Category] = &[
    Category {
        code: "electronics.smartphone",
        weight: 14.0,
        price: 650.0,
        brands: &[
            (
                "Samsung",
                &[
                    ("Galaxy S23", "network=5G;screen_size=6.1\""),
                    ("Galaxy S24 Ultra", "network=5G;screen_size=6.8\""),
                    ("Galaxy A54", "network=5G;screen_size=6.4\""),
                ],
            ),
            (
                "Apple",
                &[
                    ("iPhone 15", "network=5G;screen_size=6.1\""),
                    ("iPhone 15 Pro", "network=5G;screen_size=6.1\""),
                    ("iPhone 14", "network=5G;screen_size=6.1\""),
                ],
            ),
            (
                "Xiaomi",
                &[
                    ("Redmi Note 13", "network=4G;screen_size=6.67\""),
                    ("14T Pro", "network=5G;screen_size=6.67\""),
                ],
            ),
            (
                "Google",
                &[
                    ("Pixel 8", "network=5G;screen_size=6.2\""),
                    ("Pixel 8 Pro", "network=5G;screen_size=6.7\""),
                ],
            ),
            (
                "OnePlus",
                &[
                    ("12", "network=5G;screen_size=6.82\""),
                    ("Nord 3", "network=5G;screen_size=6.74\""),
                ],
            ),
        ],
        variants: &["128GB", "256GB", "512GB"],
        variant_key: "storage",
        specs: "",
        fits: None,
        accessories: &[
            "electronics.accessories.case",
            "electronics.accessories.charger",
            "electronics.accessories.cable",
        ],
        consumable: false,
    },
    Category {
        code: "computers.notebook",
        weight: 10.0,
        price: 1100.0,
        brands: &[
            (
                "Lenovo",
                &[
                    (
                        "ThinkPad X1 Carbon Gen 11",
                        "screen_size=14\";use=Business Ultrabook",
                    ),
                    ("IdeaPad 5", "screen_size=15.6\""),
                    (
                        "Legion 5 Pro",
                        "screen_size=16\";use=Gaming;graphics=NVIDIA GeForce RTX 4060",
                    ),
                ],
            ),
            (
                "Apple",
                &[
                    ("MacBook Air M2", "screen_size=13.6\";use=Ultrabook"),
                    ("MacBook Pro 14 M3", "screen_size=14\""),
                ],
            ),
            (
                "ASUS",
                &[
                    ("ZenBook 14 UX3402", "screen_size=14\";use=Ultrabook"),
                    (
                        "ROG Strix G16",
                        "screen_size=16\";use=Gaming;graphics=NVIDIA GeForce RTX 4070",
                    ),
                ],
            ),
            (
                "HP",
                &[
                    ("EliteBook 840 G10", "screen_size=14\";use=Business"),
                    ("Pavilion 15", "screen_size=15.6\""),
                ],
            ),
            (
                "Dell",
                &[
                    ("XPS 13 9315", "screen_size=13.4\";use=Ultrabook"),
                    ("Inspiron 16", "screen_size=16\""),
                ],
            ),
        ],
        variants: &["8GB/256GB", "16GB/512GB", "32GB/1TB"],
        variant_key: "ram/storage",
        specs: "type=Laptop",
        fits: None,
        accessories: &[
            "computers.peripherals.mouse",
            "computers.accessories.bag",
            "computers.peripherals.keyboard",
        ],
        consumable: false,
    },
    Category {
        code: "electronics.audio.headphone",
        weight: 8.0,
        price: 160.0,
        brands: &[
            (
                "Sony",
                &[
                    (
                        "WH-1000XM5",
                        "form=Over-ear;connectivity=Wireless Bluetooth;noise_cancelling=Active Noise Cancelling",
                    ),
                    (
                        "WF-1000XM4",
                        "form=True Wireless Earbuds In-ear;connectivity=Wireless Bluetooth;noise_cancelling=Active Noise Cancelling",
                    ),
                ],
            ),
            (
                "Bose",
                &[
                    (
                        "QuietComfort 45",
                        "form=Over-ear;connectivity=Wireless Bluetooth;noise_cancelling=Active Noise Cancelling",
                    ),
                    (
                        "QuietComfort Earbuds II",
                        "form=True Wireless Earbuds In-ear;connectivity=Wireless Bluetooth;noise_cancelling=Active Noise Cancelling",
                    ),
                ],
            ),
            (
                "JBL",
                &[
                    (
                        "Tune 760NC",
                        "form=Over-ear;connectivity=Wireless Bluetooth;noise_cancelling=Active Noise Cancelling",
                    ),
                    ("Tune 520BT", "form=On-ear;connectivity=Wireless Bluetooth"),
                ],
            ),
            (
                "Apple",
                &[
                    (
                        "AirPods Pro 2",
                        "form=True Wireless Earbuds In-ear;connectivity=Wireless Bluetooth;noise_cancelling=Active Noise Cancelling",
                    ),
                    (
                        "AirPods Max",
                        "form=Over-ear;connectivity=Wireless Bluetooth;noise_cancelling=Active Noise Cancelling",
                    ),
                ],
            ),
            (
                "Sennheiser",
                &[
                    (
                        "Momentum 4",
                        "form=Over-ear;connectivity=Wireless Bluetooth;noise_cancelling=Active Noise Cancelling",
                    ),
                    ("HD 560S", "form=Over-ear Open-back;connectivity=Wired"),
                ],
            ),
            (
                "Razer",
                &[(
                    "BlackShark V2 Pro",
                    "form=Over-ear Headset;connectivity=Wireless;use=Gaming;microphone=Microphone",
                )],
            ),
            (
                "SteelSeries",
                &[(
                    "Arctis Nova 7",
                    "form=Over-ear Headset;connectivity=Wireless Bluetooth;use=Gaming;microphone=Microphone",
                )],
            ),
        ],
        variants: &["Black", "White", "Blue"],
        variant_key: "color",
        specs: "",
        fits: None,
        accessories: &[],
        consumable: false,
    },
    Category {
        code: "electronics.video.tv",
        weight: 6.0,
        price: 900.0,
        brands: &[
            (
                "Samsung",
                &[
                    ("QN90C", "panel=Neo QLED Mini LED;refresh=120Hz"),
                    ("QN85C", "panel=Neo QLED;refresh=120Hz"),
                    ("The Frame LS03B", "panel=QLED;refresh=60Hz"),
                    (
                        "QN900C",
                        "panel=Neo QLED Mini LED;resolution=8K;refresh=120Hz",
                    ),
                ],
            ),
            (
                "LG",
                &[
                    ("OLED C3", "panel=OLED;refresh=120Hz"),
                    ("OLED G3", "panel=OLED;refresh=120Hz"),
                    ("QNED81", "panel=QNED;refresh=60Hz"),
                ],
            ),
            (
                "Sony",
                &[
                    ("Bravia XR A80L", "panel=OLED;refresh=120Hz"),
                    ("Bravia X90L", "panel=Full Array LED;refresh=120Hz"),
                ],
            ),
            (
                "TCL",
                &[
                    ("C845", "panel=Mini LED;refresh=144Hz"),
                    ("P745", "panel=LED;refresh=60Hz"),
                ],
            ),
        ],
        variants: &["55\"", "65\"", "75\""],
        variant_key: "screen_size",
        specs: "resolution=4K UHD;smart=Smart TV",
        fits: None,
        accessories: &["electronics.accessories.cable"],
        consumable: false,
    },
    Category {
        code: "computers.peripherals.mouse",
        weight: 5.0,
        price: 45.0,
        brands: &[
            (
                "Logitech",
                &[
                    (
                        "MX Master 3S",
                        "connectivity=Wireless Bluetooth;use=Ergonomic Office",
                    ),
                    ("M720 Triathlon", "connectivity=Wireless Bluetooth"),
                    ("G502 X", "connectivity=Wired;use=Gaming"),
                    ("G Pro X Superlight 2", "connectivity=Wireless;use=Gaming"),
                ],
            ),
            (
                "Razer",
                &[
                    ("DeathAdder V3", "connectivity=Wired;use=Gaming"),
                    ("Basilisk V3", "connectivity=Wired;use=Gaming"),
                ],
            ),
            (
                "Microsoft",
                &[
                    ("Arc Mouse", "connectivity=Wireless Bluetooth"),
                    (
                        "Bluetooth Ergonomic",
                        "connectivity=Wireless Bluetooth;use=Ergonomic",
                    ),
                ],
            ),
        ],
        variants: &["Graphite", "Pale Grey"],
        variant_key: "color",
        specs: "",
        fits: None,
        accessories: &[],
        consumable: false,
    },
    Category {
        code: "computers.peripherals.keyboard",
        weight: 4.0,
        price: 90.0,
        brands: &[
            (
                "Logitech",
                &[
                    (
                        "MX Keys S",
                        "switch=Low-profile Scissor;connectivity=Wireless Bluetooth;backlight=Backlit",
                    ),
                    ("K380", "switch=Scissor;connectivity=Wireless Bluetooth"),
                ],
            ),
            (
                "Keychron",
                &[
                    (
                        "K2 V2",
                        "switch=Mechanical Gateron Brown;connectivity=Wireless Bluetooth",
                    ),
                    (
                        "Q1 Pro",
                        "switch=Mechanical;connectivity=Wireless Bluetooth",
                    ),
                ],
            ),
            (
                "Razer",
                &[
                    (
                        "BlackWidow V4",
                        "switch=Mechanical Green;connectivity=Wired;use=Gaming;backlight=RGB",
                    ),
                    (
                        "Huntsman Mini",
                        "switch=Optical Mechanical;connectivity=Wired;use=Gaming;backlight=RGB",
                    ),
                ],
            ),
        ],
        variants: &["US", "UK", "DE"],
        variant_key: "layout",
        specs: "",
        fits: None,
        accessories: &[],
        consumable: false,
    },
    Category {
        code: "computers.peripherals.monitor",
        weight: 5.0,
        price: 350.0,
        brands: &[
            (
                "Dell",
                &[
                    (
                        "UltraSharp U2723QE",
                        "resolution=4K UHD;panel=IPS;refresh=60Hz",
                    ),
                    (
                        "S2721DGF",
                        "resolution=QHD 1440p;panel=IPS;refresh=165Hz;use=Gaming",
                    ),
                ],
            ),
            (
                "LG",
                &[
                    (
                        "UltraGear 27GP850",
                        "resolution=QHD 1440p;panel=IPS;refresh=180Hz;use=Gaming",
                    ),
                    ("27UL850", "resolution=4K UHD;panel=IPS;refresh=60Hz"),
                ],
            ),
            (
                "Samsung",
                &[
                    (
                        "Odyssey G7",
                        "resolution=QHD 1440p;panel=VA Curved;refresh=240Hz;use=Gaming",
                    ),
                    ("ViewFinity S8", "resolution=4K UHD;panel=VA;refresh=60Hz"),
                ],
            ),
            (
                "ASUS",
                &[
                    (
                        "ProArt PA278QV",
                        "resolution=QHD 1440p;panel=IPS;refresh=75Hz;use=Professional",
                    ),
                    (
                        "TUF VG27AQ",
                        "resolution=QHD 1440p;panel=IPS;refresh=165Hz;use=Gaming",
                    ),
                ],
            ),
        ],
        variants: &["27\"", "32\""],
        variant_key: "screen_size",
        specs: "",
        fits: None,
        accessories: &["electronics.accessories.cable"],
        consumable: false,
    },
    Category {
        code: "computers.components.videocards",
        weight: 4.0,
        price: 700.0,
        brands: &[
            (
                "ASUS",
                &[
                    ("RTX 4070 Dual OC", "chipset=NVIDIA GeForce RTX 4070"),
                    ("RTX 4090 ROG Strix", "chipset=NVIDIA GeForce RTX 4090"),
                ],
            ),
            (
                "MSI",
                &[
                    ("RTX 4080 Gaming X Trio", "chipset=NVIDIA GeForce RTX 4080"),
                    ("RTX 4060 Ventus 2X", "chipset=NVIDIA GeForce RTX 4060"),
                ],
            ),
            (
                "Gigabyte",
                &[
                    ("RX 7800 XT Gaming OC", "chipset=AMD Radeon RX 7800 XT"),
                    ("RTX 4070 Ti Eagle", "chipset=NVIDIA GeForce RTX 4070 Ti"),
                ],
            ),
        ],
        variants: &["12GB", "16GB", "24GB"],
        variant_key: "memory",
        specs: "interface=PCIe 4.0",
        fits: None,
        accessories: &[],
        consumable: false,
    },
    Category {
        code: "electronics.tablet",
        weight: 5.0,
        price: 520.0,
        brands: &[
            (
                "Apple",
                &[
                    ("iPad Air 5", "screen_size=10.9\""),
                    ("iPad Pro 11 M2", "screen_size=11\""),
                ],
            ),
            (
                "Samsung",
                &[
                    ("Galaxy Tab S9", "screen_size=11\""),
                    ("Galaxy Tab A9+", "screen_size=11\""),
                ],
            ),
            (
                "Lenovo",
                &[
                    ("Tab P11 Gen 2", "screen_size=11.5\""),
                    ("Tab M10", "screen_size=10.1\""),
                ],
            ),
        ],
        variants: &["64GB", "128GB", "256GB"],
        variant_key: "storage",
        specs: "connectivity=Wi-Fi",
        fits: None,
        accessories: &[
            "electronics.accessories.case",
            "electronics.accessories.charger",
        ],
        consumable: false,
    },
    Category {
        code: "electronics.smartwatch",
        weight: 4.0,
        price: 300.0,
        brands: &[
            (
                "Apple",
                &[("Watch Series 9", "gps=GPS"), ("Watch SE 2", "gps=GPS")],
            ),
            (
                "Samsung",
                &[
                    ("Galaxy Watch6", "gps=GPS"),
                    ("Galaxy Watch6 Classic", "gps=GPS"),
                ],
            ),
            (
                "Garmin",
                &[
                    ("Forerunner 265", "gps=GPS;use=Running"),
                    ("Fenix 7", "gps=GPS;use=Outdoor"),
                ],
            ),
        ],
        variants: &["41mm", "45mm"],
        variant_key: "case_size",
        specs: "",
        fits: None,
        accessories: &["electronics.accessories.charger"],
        consumable: false,
    },
    Category {
        code: "electronics.camera.photo",
        weight: 3.0,
        price: 1500.0,
        brands: &[
            (
                "Canon",
                &[
                    ("EOS R6 Mark II", "sensor=Full Frame;resolution=24MP"),
                    ("EOS R50", "sensor=APS-C;resolution=24MP"),
                ],
            ),
            (
                "Sony",
                &[
                    ("Alpha 7 IV", "sensor=Full Frame;resolution=33MP"),
                    ("ZV-E10", "sensor=APS-C;resolution=24MP;use=Vlogging"),
                ],
            ),
            (
                "Nikon",
                &[
                    ("Z6 II", "sensor=Full Frame;resolution=24MP"),
                    ("Z50", "sensor=APS-C;resolution=21MP"),
                ],
            ),
            (
                "Fujifilm",
                &[
                    ("X-T5", "sensor=APS-C;resolution=40MP"),
                    ("X-S20", "sensor=APS-C;resolution=26MP"),
                ],
            ),
        ],
        variants: &["Body", "Kit 24-105mm"],
        variant_key: "kit",
        specs: "type=Mirrorless",
        fits: None,
        accessories: &["electronics.accessories.battery"],
        consumable: false,
    },
    Category {
        code: "electronics.accessories.case",
        weight: 4.0,
        price: 25.0,
        brands: &[
            (
                "Spigen",
                &[
                    ("Ultra Hybrid", "material=TPU"),
                    ("Tough Armor", "protection=Rugged Drop Protection"),
                ],
            ),
            (
                "OtterBox",
                &[
                    ("Defender", "protection=Rugged Drop Protection"),
                    ("Symmetry", "material=Polycarbonate"),
                ],
            ),
        ],
        variants: &["Clear", "Black", "Blue"],
        variant_key: "color",
        specs: "",
        fits: Some(("Case for", PHONES)),
        accessories: &[],
        consumable: false,
    },
    Category {
        code: "electronics.accessories.charger",
        weight: 3.0,
        price: 30.0,
        brands: &[
            (
                "Anker",
                &[
                    ("PowerPort III 65W", "power=65W;connector=USB-C"),
                    ("Nano 30W", "power=30W;connector=USB-C"),
                ],
            ),
            (
                "Belkin",
                &[
                    (
                        "BoostCharge Pro 3-in-1",
                        "power=15W;type=Wireless Charging MagSafe",
                    ),
                    ("25W USB-C", "power=25W;connector=USB-C"),
                ],
            ),
            ("Samsung", &[("EP-T4510 45W", "power=45W;connector=USB-C")]),
        ],
        variants: &["White", "Black"],
        variant_key: "color",
        specs: "",
        fits: None,
        accessories: &["electronics.accessories.cable"],
        consumable: false,
    },
    Category {
        code: "electronics.accessories.cable",
        weight: 3.0,
        price: 12.0,
        brands: &[
            (
                "Anker",
                &[
                    ("PowerLine III USB-C", "connector=USB-C to USB-C"),
                    ("PowerLine Lightning", "connector=USB-C to Lightning"),
                ],
            ),
            (
                "Belkin",
                &[
                    ("USB-C to USB-C 2.0", "connector=USB-C to USB-C"),
                    ("HDMI 2.1 Ultra", "connector=HDMI;resolution=8K"),
                ],
            ),
            (
                "UGREEN",
                &[
                    ("USB-C 100W", "connector=USB-C to USB-C;power=100W"),
                    ("DisplayPort 1.4", "connector=DisplayPort"),
                ],
            ),
        ],
        variants: &["1m", "2m", "3m"],
        variant_key: "length",
        specs: "",
        fits: None,
        accessories: &[],
        consumable: true,
    },
    Category {
        code: "electronics.accessories.battery",
        weight: 2.0,
        price: 10.0,
        brands: &[
            (
                "Duracell",
                &[
                    ("Plus AA 8-pack", "size=AA;chemistry=Alkaline"),
                    ("Plus AAA 8-pack", "size=AAA;chemistry=Alkaline"),
                ],
            ),
            (
                "Energizer",
                &[
                    ("Max AA 12-pack", "size=AA;chemistry=Alkaline"),
                    ("Lithium AA 4-pack", "size=AA;chemistry=Lithium"),
                ],
            ),
            (
                "Varta",
                &[("Longlife AA 10-pack", "size=AA;chemistry=Alkaline")],
            ),
        ],
        variants: &["Standard"],
        variant_key: "pack",
        specs: "",
        fits: None,
        accessories: &[],
        consumable: true,
    },
    Category {
        code: "computers.peripherals.printer",
        weight: 2.0,
        price: 200.0,
        brands: &[
            (
                "HP",
                &[
                    (
                        "LaserJet Pro M404dn",
                        "technology=Laser;connectivity=Wired Ethernet",
                    ),
                    (
                        "DeskJet 4120e",
                        "technology=Inkjet All-in-One;connectivity=Wireless",
                    ),
                ],
            ),
            (
                "Canon",
                &[
                    (
                        "PIXMA TS5350",
                        "technology=Inkjet All-in-One;connectivity=Wireless",
                    ),
                    (
                        "i-SENSYS MF445dw",
                        "technology=Laser All-in-One;connectivity=Wireless",
                    ),
                ],
            ),
            (
                "Epson",
                &[
                    (
                        "EcoTank ET-2850",
                        "technology=Ink Tank All-in-One;connectivity=Wireless",
                    ),
                    (
                        "WorkForce WF-2950",
                        "technology=Inkjet All-in-One;connectivity=Wireless",
                    ),
                ],
            ),
        ],
        variants: &["Standard"],
        variant_key: "edition",
        specs: "",
        fits: None,
        accessories: &["computers.accessories.ink"],
        consumable: false,
    },
    Category {
        code: "computers.accessories.ink",
        weight: 2.0,
        price: 30.0,
        brands: &[
            (
                "HP",
                &[
                    ("305XL Black", "compatible_with=HP DeskJet 4120e"),
                    ("305 Tri-colour", "compatible_with=HP DeskJet 4120e"),
                ],
            ),
            (
                "Canon",
                &[
                    ("PG-545XL", "compatible_with=Canon PIXMA TS5350"),
                    ("CL-546", "compatible_with=Canon PIXMA TS5350"),
                ],
            ),
            (
                "Epson",
                &[
                    (
                        "T502 EcoTank Black",
                        "compatible_with=Epson EcoTank ET-2850",
                    ),
                    ("102 Cyan", "compatible_with=Epson EcoTank ET-2850"),
                ],
            ),
        ],
        variants: &["Single", "Twin pack"],
        variant_key: "pack",
        specs: "",
        fits: None,
        accessories: &[],
        consumable: true,
    },
    Category {
        code: "computers.accessories.bag",
        weight: 2.0,
        price: 60.0,
        brands: &[
            (
                "Targus",
                &[
                    ("CitySmart 15.6", "style=Laptop Bag"),
                    ("Newport Backpack", "style=Laptop Backpack"),
                ],
            ),
            (
                "Samsonite",
                &[
                    ("Guardit 2.0", "style=Laptop Backpack"),
                    ("Openroad", "style=Laptop Bag"),
                ],
            ),
            (
                "Thule",
                &[
                    ("Subterra", "style=Laptop Backpack"),
                    ("Crossover 2", "style=Laptop Backpack"),
                ],
            ),
        ],
        variants: &["14\"", "16\""],
        variant_key: "fits_laptop",
        specs: "",
        fits: None,
        accessories: &[],
        consumable: false,
    },
    Category {
        code: "appliances.kitchen.coffee_machine",
        weight: 3.0,
        price: 400.0,
        brands: &[
            (
                "DeLonghi",
                &[
                    ("Magnifica Evo", "brewing=Bean to Cup"),
                    ("Dinamica Plus", "brewing=Bean to Cup"),
                ],
            ),
            (
                "Philips",
                &[
                    ("LatteGo 5400", "brewing=Bean to Cup"),
                    ("3200 Series", "brewing=Bean to Cup"),
                ],
            ),
            (
                "Nespresso",
                &[
                    ("Vertuo Next", "brewing=Capsule"),
                    ("Essenza Mini", "brewing=Capsule"),
                ],
            ),
        ],
        variants: &["Black", "Silver"],
        variant_key: "color",
        specs: "",
        fits: None,
        accessories: &[],
        consumable: false,
    },
    Category {
        code: "electronics.audio.speaker",
        weight: 4.0,
        price: 120.0,
        brands: &[
            (
                "JBL",
                &[
                    (
                        "Flip 6",
                        "connectivity=Wireless Bluetooth;style=Portable;waterproof=IP67 Waterproof",
                    ),
                    (
                        "Charge 5",
                        "connectivity=Wireless Bluetooth;style=Portable;waterproof=IP67 Waterproof",
                    ),
                ],
            ),
            (
                "Bose",
                &[(
                    "SoundLink Flex",
                    "connectivity=Wireless Bluetooth;style=Portable;waterproof=IP67 Waterproof",
                )],
            ),
            (
                "Sony",
                &[(
                    "SRS-XB100",
                    "connectivity=Wireless Bluetooth;style=Portable;waterproof=IP67 Waterproof",
                )],
            ),
            (
                "Sonos",
                &[
                    (
                        "Era 100",
                        "connectivity=Wi-Fi Bluetooth;style=Smart Speaker",
                    ),
                    ("Beam Gen 2", "connectivity=Wi-Fi HDMI eARC;style=Soundbar"),
                ],
            ),
        ],
        variants: &["Black", "Blue", "Red"],
        variant_key: "color",
        specs: "",
        fits: None,
        accessories: &[],
        consumable: false,
    },
    Category {
        code: "computers.components.storage",
        weight: 3.0,
        price: 110.0,
        brands: &[
            (
                "Samsung",
                &[
                    ("990 Pro", "drive=Internal NVMe SSD;interface=M.2 PCIe 4.0"),
                    ("870 EVO", "drive=Internal SATA SSD;form_factor=2.5\""),
                    ("T7 Shield", "drive=Portable External SSD;interface=USB-C"),
                ],
            ),
            (
                "WD",
                &[
                    (
                        "Black SN850X",
                        "drive=Internal NVMe SSD;interface=M.2 PCIe 4.0",
                    ),
                    (
                        "Red Plus",
                        "drive=Internal Hard Drive HDD;rpm=5400 RPM;use=NAS",
                    ),
                    (
                        "Elements",
                        "drive=External Hard Drive HDD;interface=USB 3.0",
                    ),
                ],
            ),
            (
                "Seagate",
                &[
                    ("BarraCuda", "drive=Internal Hard Drive HDD;rpm=7200 RPM"),
                    (
                        "IronWolf",
                        "drive=Internal Hard Drive HDD;rpm=5400 RPM;use=NAS",
                    ),
                ],
            ),
            (
                "Crucial",
                &[("MX500", "drive=Internal SATA SSD;form_factor=2.5\"")],
            ),
        ],
        variants: &["1TB", "2TB", "4TB"],
        variant_key: "capacity",
        specs: "",
        fits: None,
        accessories: &[],
        consumable: false,
    },
];

/// Colours the simulated catalog's attributes cycle through.
const COLORS: [&str; 5] = ["Black", "Silver", "White", "Blue", "Red"];

/// Pairs of a `key=value;…` list (empty values left out).
fn specs(list: &str) -> impl Iterator<Item = (&str, &str)> {
    list.split(';')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(_, v)| !v.is_empty())
}

/// What one simulated product is called and what it is: the `n`-th product of category `cat`
/// (index `c`), of `brand`'s `series`. Derived without drawing from the RNG.
pub(super) fn describe(
    cat: &Category,
    c: usize,
    n: usize,
    brand: &str,
    series: Series,
    suffix: &str,
) -> (String, BTreeMap<String, String>) {
    let variant = cat.variants[n % cat.variants.len()];
    let mut attributes = BTreeMap::from([
        (
            "color".to_owned(),
            COLORS[(n + c) * 7 % COLORS.len()].to_owned(),
        ),
        ("warranty".to_owned(), format!("{} years", 1 + (n + c) % 3)),
    ]);
    attributes.insert("variant".to_owned(), variant.to_owned());
    for (k, v) in specs(cat.specs).chain(specs(series.1)) {
        attributes.insert(k.to_owned(), v.to_owned());
    }
    match cat.variant_key.split_once('/') {
        Some((a, b)) => {
            let (x, y) = variant.split_once('/').unwrap_or((variant, ""));
            attributes.insert(a.to_owned(), x.to_owned());
            attributes.insert(b.to_owned(), format!("{y} SSD"));
        }
        None => {
            attributes.insert(cat.variant_key.to_owned(), variant.to_owned());
        }
    }
    let title = match cat.fits {
        Some((noun, targets)) => {
            let target = targets[(n / cat.variants.len()) % targets.len()];
            attributes.insert("compatible_with".to_owned(), target.to_owned());
            format!("{brand} {} {noun} {target} {variant}{suffix}", series.0)
        }
        None => format!("{brand} {} {variant}{suffix}", series.0),
    };
    (title, attributes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_carry_their_specifications() {
        let tv = &CATEGORIES[3];
        let (title, a) = describe(tv, 3, 1, "LG", tv.brands[1].1[0], "");
        assert_eq!(title, "LG OLED C3 65\"");
        assert_eq!(a["screen_size"], "65\"");
        assert_eq!(a["panel"], "OLED");
        assert_eq!(a["resolution"], "4K UHD");
        let laptop = &CATEGORIES[1];
        let (_, a) = describe(laptop, 1, 2, "Dell", laptop.brands[4].1[0], "");
        assert_eq!(
            (a["ram"].as_str(), a["storage"].as_str()),
            ("32GB", "1TB SSD")
        );
        let case = CATEGORIES
            .iter()
            .find(|c| c.code == "electronics.accessories.case")
            .unwrap();
        let (title, a) = describe(case, 11, 9, "Spigen", case.brands[0].1[0], " (123)");
        assert_eq!(
            title,
            "Spigen Ultra Hybrid Case for Apple iPhone 15 Clear (123)"
        );
        assert_eq!(a["compatible_with"], "Apple iPhone 15");
    }
}
