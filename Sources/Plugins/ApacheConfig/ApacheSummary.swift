import Engine

extension ApacheConfigAnalyzer {
    public func prose(_ input: InputText) -> String { ConfigProse.apache(input.text) }

    /// Findings plus what was checked, so a config with no finding still says what kb looked at.
    public func examine(_ input: InputText, context: ProbeContext) async -> Analysis {
        let related = NginxConfigAnalyzer.related(input, among: context.facts.inputs, kinds: kinds)
        let owned = findings(for: related, files: context.files, byteLimit: context.byteLimit)
            .filter { $0.owner == input.name }.map(\.finding)
        var loader = ApacheLoader(files: context.files, byteLimit: context.byteLimit)
        loader.load(related)
        let model = ApacheModel(roots: loader.roots)
        let summary = Self.summary(model, loader: loader, owner: input.name)
        return ConfigSummary.analysis(owned, input: input, analyzer: id, checked: summary.checked, hosts: summary.hosts)
    }

    /// Counts of the virtual hosts and addresses examined in what `owner` brought in, and the names they serve.
    static func summary(_ model: ApacheModel, loader: ApacheLoader,
                        owner: String) -> (checked: [String], hosts: [String]) {
        func mine(_ location: SourceLocation) -> Bool { (loader.owners[location.file] ?? location.file) == owner }
        var checked: [String] = []
        var hosts: [String] = []
        let files = Set(loader.sources.keys.filter { (loader.owners[$0] ?? $0) == owner }).count
        if files > 1 { checked.append(ConfigSummary.count(files, "file")) }
        let vhosts = model.vhosts.filter { mine($0.section.location) }
        if !vhosts.isEmpty || loader.listings.isEmpty {
            let tls = vhosts.filter { model.isTLS($0) }
            let addresses = Set(tls.flatMap(\.addresses))
            let on = ConfigSummary.count(addresses.count, "address", plural: "addresses")
            checked.append(ConfigSummary.count(vhosts.count, "virtual host")
                + (tls.isEmpty ? ", none with TLS" : " (\(tls.count) with TLS on \(on))"))
            for vhost in vhosts { for name in vhost.names { ConfigSummary.addHost(name, to: &hosts) } }
        }
        for (listingOwner, listing) in loader.listings where listingOwner == owner {
            let count = listing.groups.reduce(0) { $0 + $1.vhosts.count }
            checked.append("apachectl -S: " + ConfigSummary.count(count, "virtual host") + " on "
                + ConfigSummary.count(listing.groups.count, "address", plural: "addresses"))
            for group in listing.groups {
                for vhost in group.vhosts {
                    for name in [vhost.name] + vhost.aliases { ConfigSummary.addHost(name, to: &hosts) }
                }
            }
        }
        let sni = model.sniDirectives.filter { mine($0.directive.location) }
        if !sni.isEmpty { checked.append(ConfigSummary.count(sni.count, "SNI policy directive")) }
        return (checked, hosts)
    }
}
