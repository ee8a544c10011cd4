//! A small syntactic type model for call sites: enough to tell an `Arc<T>`
//! from a plain `T` where declarations say so, and `Unknown` everywhere else.

use ra_ap_syntax::ast::{self, AstNode, HasGenericArgs};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Ty {
    Ref(Box<Ty>),
    /// A named type by its last path segment, with its type arguments.
    Named(String, Vec<Ty>),
    /// A value of a type from outside the crate (`Runtime` from
    /// `Runtime::new()`): it is not one of the crate's types, and its methods
    /// are not the crate's.
    Foreign(String),
    Unknown,
}

/// `Arc`/`Rc` names; `Shared` is an owner of unknown family (what
/// `Weak::upgrade` returns when the file's `Weak` could be either).
pub(super) const SHARED: &str = "Shared";

impl Ty {
    pub(super) fn named(name: &str, args: Vec<Ty>) -> Ty {
        Ty::Named(name.to_string(), args)
    }

    /// The type with every outer reference removed.
    pub(super) fn strip_refs(&self) -> &Ty {
        let mut ty = self;
        while let Ty::Ref(inner) = ty {
            ty = inner;
        }
        ty
    }

    /// `Arc<X>` / `Rc<X>` / an owner of unknown family: its family name.
    pub(super) fn owner_family(&self) -> Option<&str> {
        match self {
            Ty::Named(name, _) if matches!(name.as_str(), "Arc" | "Rc" | SHARED) => {
                Some(name.as_str())
            }
            _ => None,
        }
    }

    pub(super) fn arg(&self, index: usize) -> Ty {
        match self {
            Ty::Named(_, args) => args.get(index).cloned().unwrap_or(Ty::Unknown),
            _ => Ty::Unknown,
        }
    }

    pub(super) fn name(&self) -> Option<&str> {
        match self {
            Ty::Named(name, _) => Some(name),
            _ => None,
        }
    }

    /// Whether the type names `owner` anywhere (`Box<Catalog>`,
    /// `Option<&Catalog>`).
    pub(super) fn mentions(&self, owner: &str) -> bool {
        match self {
            Ty::Ref(inner) => inner.mentions(owner),
            Ty::Named(name, args) => name == owner || args.iter().any(|a| a.mentions(owner)),
            Ty::Foreign(_) | Ty::Unknown => false,
        }
    }

    /// The value behind one `*`.
    pub(super) fn deref(&self) -> Ty {
        match self {
            Ty::Ref(inner) => (**inner).clone(),
            Ty::Named(name, args) if matches!(name.as_str(), "Arc" | "Rc" | "Box" | SHARED) => {
                args.first().cloned().unwrap_or(Ty::Unknown)
            }
            _ => Ty::Unknown,
        }
    }

    /// The type method lookup lands on: references and smart pointers peeled.
    pub(super) fn auto_deref(&self) -> &Ty {
        let mut ty = self;
        loop {
            ty = match ty {
                Ty::Ref(inner) => inner,
                Ty::Named(name, args)
                    if matches!(name.as_str(), "Arc" | "Rc" | "Box" | SHARED)
                        && !args.is_empty() =>
                {
                    &args[0]
                }
                _ => return ty,
            };
        }
    }

    /// `T` of `Option<T>` / `Result<T, E>`; a foreign value stays foreign
    /// (its constructor's `Result` is not visible).
    pub(super) fn unwrapped(&self) -> Ty {
        match self {
            Ty::Named(name, args) if name == "Option" || name == "Result" => {
                args.first().cloned().unwrap_or(Ty::Unknown)
            }
            Ty::Foreign(_) => self.clone(),
            _ => Ty::Unknown,
        }
    }

    /// What `for x in <self>` binds.
    pub(super) fn element(&self) -> Ty {
        match self {
            Ty::Ref(inner) => match inner.element() {
                Ty::Unknown => Ty::Unknown,
                // `&Vec<T>` yields `&T`.
                element => Ty::Ref(Box::new(element)),
            },
            Ty::Named(name, args) => match name.as_str() {
                "Vec" | "VecDeque" | "HashSet" | "BTreeSet" | "Iter" | "IntoIter" | "Option" => {
                    args.first().cloned().unwrap_or(Ty::Unknown)
                }
                _ => Ty::Unknown,
            },
            _ => Ty::Unknown,
        }
    }
}

/// Converts a written type; `Self` becomes `self_name`.
pub(super) fn from_ast(ty: &ast::Type, self_name: Option<&str>) -> Ty {
    match ty {
        ast::Type::RefType(reference) => Ty::Ref(Box::new(
            reference
                .ty()
                .map_or(Ty::Unknown, |inner| from_ast(&inner, self_name)),
        )),
        ast::Type::ParenType(paren) => paren
            .ty()
            .map_or(Ty::Unknown, |inner| from_ast(&inner, self_name)),
        ast::Type::SliceType(slice) => Ty::named(
            "Vec",
            vec![
                slice
                    .ty()
                    .map_or(Ty::Unknown, |inner| from_ast(&inner, self_name)),
            ],
        ),
        ast::Type::ArrayType(array) => Ty::named(
            "Vec",
            vec![
                array
                    .ty()
                    .map_or(Ty::Unknown, |inner| from_ast(&inner, self_name)),
            ],
        ),
        ast::Type::PathType(path) => {
            let Some(segment) = path.path().and_then(|p| p.segment()) else {
                return Ty::Unknown;
            };
            let Some(name) = segment.name_ref() else {
                return Ty::Unknown;
            };
            let name = name.text().to_string();
            if name == "Self" {
                return self_name.map_or(Ty::Unknown, |own| Ty::named(own, Vec::new()));
            }
            let args = segment
                .generic_arg_list()
                .map(|list| {
                    list.generic_args()
                        .filter_map(|arg| match arg {
                            ast::GenericArg::TypeArg(arg) => arg.ty(),
                            _ => None,
                        })
                        .map(|t| from_ast(&t, self_name))
                        .collect()
                })
                .unwrap_or_default();
            Ty::Named(name, args)
        }
        _ => Ty::Unknown,
    }
}

/// The last segment of a written type's path (`Catalog` for
/// `crate::Catalog<T>`).
pub(super) fn type_name(ty: &ast::Type) -> Option<String> {
    let ast::Type::PathType(path) = ty else {
        return None;
    };
    Some(path.path()?.segment()?.name_ref()?.text().to_string())
}

/// The name of the type an `impl` block is for.
pub(super) fn impl_name(item: &ast::Impl) -> Option<String> {
    type_name(&item.self_ty()?)
}

/// The `impl` a function is an associated item of (not one it is nested in).
pub(super) fn owning_impl(func: &ast::Fn) -> Option<ast::Impl> {
    let list = ast::AssocItemList::cast(func.syntax().parent()?)?;
    ast::Impl::cast(list.syntax().parent()?)
}
