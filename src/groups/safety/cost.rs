//! What validating with a subschema graph can cost: refuses a cycle of in-place applications
//! (validation would never end), and a schema that applies more than
//! [`MAX_APPLIED_SUBSCHEMAS`] subschemas to one value, be it at one level (a reference "bomb":
//! `a` = two `$ref`s to `b`, `b` = two to `c`, ...) or growing with the depth of the document
//! (a recursive reference reached twice per level, e.g. `items` in two branches of `allOf`,
//! doubles the work at every level).

use std::collections::HashMap;
use std::rc::Rc;

use super::graph::Graph;
use super::MAX_APPLIED_SUBSCHEMAS;

/// Most (node, channel) entries the growth analysis may compute; a schema that needs more is
/// refused as too complex rather than analysed without bound.
const ANALYSIS_BUDGET: usize = 4_000_000;
/// Most nodes of a reference cycle quoted in a message.
const CYCLE_NODES_SHOWN: usize = 8;

/// Checks the cost of validating with `graph` for documents up to `max_depth` levels deep.
pub(super) fn check(graph: &Graph<'_>, max_depth: usize) -> Result<(), String> {
    let order = in_place_order(graph)?;
    let applied = applied_in_place(graph, &order)?;
    growth(graph, &order, &applied, max_depth)
}

/// Every node, each after the nodes it applies in place (iterative depth-first search); `Err`
/// names a cycle of in-place applications.
fn in_place_order(graph: &Graph<'_>) -> Result<Vec<usize>, String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let nodes = &graph.nodes;
    let mut marks = vec![Mark::New; nodes.len()];
    let mut order = Vec::with_capacity(nodes.len());
    for start in 0..nodes.len() {
        if marks[start] != Mark::New {
            continue;
        }
        marks[start] = Mark::Open;
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        while let Some(top) = path.last_mut() {
            let (id, edge) = *top;
            let Some(&(next, _)) = nodes[id].in_place.get(edge) else {
                path.pop();
                marks[id] = Mark::Done;
                order.push(id);
                continue;
            };
            top.1 += 1;
            match marks[next] {
                Mark::New => {
                    marks[next] = Mark::Open;
                    path.push((next, 0));
                }
                Mark::Open => return Err(cycle(graph, &path, next)),
                Mark::Done => {}
            }
        }
    }
    Ok(order)
}

/// The message for the cycle that `path` closes by returning to `to`.
fn cycle(graph: &Graph<'_>, path: &[(usize, usize)], to: usize) -> String {
    let from = path.iter().position(|&(id, _)| id == to).unwrap_or(0);
    let cycle: Vec<usize> = path[from..].iter().map(|&(id, _)| id).collect();
    let mut shown: Vec<String> = cycle
        .iter()
        .take(CYCLE_NODES_SHOWN)
        .map(|&id| graph.location(id))
        .collect();
    if cycle.len() > CYCLE_NODES_SHOWN {
        shown.push(format!("… ({} more)", cycle.len() - CYCLE_NODES_SHOWN));
    }
    shown.push(graph.location(to));
    format!(
        "the references form a cycle that never descends into the document: {}; validation \
         would apply these subschemas to the same value forever. A recursive reference must go \
         through a keyword that descends into the document (properties, items, \
         additionalProperties, ...)",
        shown.join(" → ")
    )
}

/// How many subschemas each node applies to the value it validates (itself included), with
/// its in-place applications unfolded (only one of `then`/`else` applies).
fn applied_in_place(graph: &Graph<'_>, order: &[usize]) -> Result<Vec<u64>, String> {
    let mut applied = vec![0u64; graph.nodes.len()];
    for &id in order {
        let (mut sum, mut alternative) = (1u64, 0u64);
        for &(child, is_alternative) in &graph.nodes[id].in_place {
            if is_alternative {
                alternative = alternative.max(applied[child]);
            } else {
                sum = sum.saturating_add(applied[child]);
            }
        }
        let total = sum.saturating_add(alternative);
        if total > MAX_APPLIED_SUBSCHEMAS {
            return Err(format!(
                "the subschema at {} applies more than {MAX_APPLIED_SUBSCHEMAS} subschemas to one \
                 value once its references and allOf/anyOf/oneOf are unfolded: refer to fewer \
                 subschemas",
                graph.location(id)
            ));
        }
        applied[id] = total;
    }
    Ok(applied)
}

/// For one node and one level below the value it validates: how many subschemas reach a
/// child value, by the child's property name or item index ("other" for the rest).
#[derive(Clone, Default)]
struct Channels<'a> {
    properties: HashMap<&'a str, u64>,
    other_property: u64,
    items: HashMap<usize, u64>,
    other_item: u64,
    /// A property name (a string: nothing applies below it).
    name: u64,
}

impl<'a> Channels<'a> {
    fn worst(&self) -> u64 {
        let named = self.properties.values().chain(self.items.values());
        named
            .copied()
            .chain([self.other_property, self.other_item, self.name])
            .max()
            .unwrap_or(0)
    }

    fn size(&self) -> usize {
        self.properties.len() + self.items.len() + 1
    }

    /// Adds (or, for alternatives, takes the larger of) `other`'s counts, channel by channel.
    fn merge(&mut self, other: &Channels<'a>, combine: fn(u64, u64) -> u64) {
        for (key, count) in &mut self.properties {
            *count = combine(
                *count,
                *other.properties.get(key).unwrap_or(&other.other_property),
            );
        }
        for (key, count) in &other.properties {
            if !self.properties.contains_key(key) {
                self.properties.insert(key, combine(self.other_property, *count));
            }
        }
        self.other_property = combine(self.other_property, other.other_property);
        for (index, count) in &mut self.items {
            *count = combine(*count, *other.items.get(index).unwrap_or(&other.other_item));
        }
        for (index, count) in &other.items {
            if !self.items.contains_key(index) {
                self.items.insert(*index, combine(self.other_item, *count));
            }
        }
        self.other_item = combine(self.other_item, other.other_item);
        self.name = combine(self.name, other.name);
    }
}

/// Refuses a schema whose worst document of `max_depth` levels gets more than
/// [`MAX_APPLIED_SUBSCHEMAS`] subschemas applied to one of its values. Level by level, the
/// worst count of node `n` is the worst channel of its own descents and those of its in-place
/// unfolding, each descent counting what its target costs one level less deep.
fn growth(graph: &Graph<'_>, order: &[usize], applied: &[u64], max_depth: usize) -> Result<(), String> {
    if graph.nodes.is_empty() {
        return Ok(());
    }
    let mut budget = ANALYSIS_BUDGET;
    let mut previous = applied.to_vec();
    for depth in 1..=max_depth {
        let mut channels: Vec<Option<Rc<Channels<'_>>>> = vec![None; graph.nodes.len()];
        let mut worst = vec![0u64; graph.nodes.len()];
        for &id in order {
            let node = &graph.nodes[id];
            let shared = match node.in_place.as_slice() {
                [(child, false)] if node.descents.is_empty() => channels[*child].clone(),
                _ => None,
            };
            let (computed, work) = match shared {
                Some(shared) => (shared, 1),
                None => {
                    let own = node_channels(graph, id, &previous, applied, &channels);
                    let work = own.size();
                    (Rc::new(own), work)
                }
            };
            budget = budget.checked_sub(work).ok_or_else(|| {
                "the schema is too complex to check that validation stays bounded: use fewer \
                 subschemas and references"
                    .to_owned()
            })?;
            worst[id] = computed.worst();
            channels[id] = Some(computed);
        }
        if worst[0] > MAX_APPLIED_SUBSCHEMAS {
            return Err(format!(
                "validating a document could apply more than {MAX_APPLIED_SUBSCHEMAS} subschemas \
                 to one value {depth} levels deep: a subschema is reached several times for the \
                 same value below it, and again at every level (e.g. a recursive \"$ref\" under \
                 \"items\" in two branches of allOf/anyOf/oneOf); make each value reach it once"
            ));
        }
        if worst == previous {
            break; // a fixed point: deeper levels cost the same
        }
        previous = worst;
    }
    Ok(())
}

/// The channels of node `id`: its own descents (targets costing `previous`), plus those of the
/// nodes it applies in place (already in `channels`).
fn node_channels<'a>(
    graph: &Graph<'a>,
    id: usize,
    previous: &[u64],
    applied: &[u64],
    channels: &[Option<Rc<Channels<'a>>>],
) -> Channels<'a> {
    let node = &graph.nodes[id];
    let d = &node.descents;
    let cost = |targets: &[usize]| {
        targets
            .iter()
            .fold(0u64, |sum, &t| sum.saturating_add(previous[t]))
    };
    let patterns = cost(&d.patterns);
    let contains = cost(&d.contains);
    let mut own = Channels {
        // A name either matches a pattern (the patterns apply) or not (additionalProperties).
        other_property: patterns
            .max(cost(&d.additional))
            .saturating_add(cost(&d.unevaluated_properties)),
        other_item: cost(&d.other_items).saturating_add(contains),
        name: d
            .names
            .iter()
            .fold(0u64, |sum, &t| sum.saturating_add(applied[t])),
        ..Channels::default()
    };
    for &(key, target) in &d.properties {
        let count = own.properties.entry(key).or_insert(patterns);
        *count = count.saturating_add(previous[target]);
    }
    for &(index, target) in &d.prefix {
        let count = own.items.entry(index).or_insert(contains);
        *count = count.saturating_add(previous[target]);
    }
    let mut alternatives: Option<Channels<'a>> = None;
    for &(child, is_alternative) in &node.in_place {
        let Some(child) = channels[child].as_deref() else {
            continue;
        };
        if !is_alternative {
            own.merge(child, u64::saturating_add);
        } else if let Some(alternatives) = alternatives.as_mut() {
            alternatives.merge(child, u64::max);
        } else {
            alternatives = Some(child.clone());
        }
    }
    if let Some(alternatives) = alternatives {
        own.merge(&alternatives, u64::saturating_add);
    }
    own
}
