/* The query editor of /sparql and /query (templates/query.html): the bundled YASGUI, set up so
 * that no link and no stored state can turn it against its reader.
 *
 * - It talks to this server's endpoint only. Stock YASGUI takes `endpoint=` (and request
 *   headers, arguments, method) from the page's URL and keeps every tab's endpoint in
 *   localStorage, so a shared link could make the page post queries to any address and show
 *   that address's answer on our origin, and a reload would do it again. Here the URL gives a
 *   query, a tab title and the dataset (named and default graphs) and nothing else; every
 *   request is sent to the endpoint the page names, whatever a stored tab says; stored tabs
 *   are rewritten to it; the field to type another endpoint is hidden (query-editor.css).
 * - Answers are shown as text. YASR's table builds HTML strings from the values, datatypes and
 *   language tags of an answer, so a datatype like <http://x/"><img src=x>> became an element
 *   of our page. Our table plugin escapes everything it shows and links only http(s) IRIs.
 *
 * A file, not an inline script: the Content-Security-Policy allows scripts from 'self' only.
 * The page hands over its settings in a JSON data block, #editor-config.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("editor-config").textContent);
  var endpoint = new URL(config.endpoint, window.location.href).href;
  document.getElementById("endpoint-url").textContent = endpoint;
  var german = config.lang === "de";
  // The IRIs of this dataset are answered by this server wherever it runs: {base}id/talk/x at
  // {root}id/talk/x (a 303 to its page). A result links there, not to the public base.
  var base = config.base || "";
  var root = new URL(config.root || "/", window.location.href).href;

  /** Where a result's IRI is followed to: this server for the dataset's own IRIs. */
  function followed(iri) {
    if (base && iri.indexOf(base) === 0) return root + iri.substring(base.length);
    return iri;
  }

  /** Text made safe to put between tags or inside a quoted attribute. */
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return "&#" + c.charCodeAt(0) + ";";
    });
  }

  /** A binding's value as text: a string, or (an RDF-star triple) its JSON. */
  function valueText(value) {
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  /** The http(s) URL an IRI names, or null: only those become links (no javascript:, data:). */
  function webUrl(iri) {
    if (typeof iri !== "string" || !/^https?:\/\//i.test(iri)) return null;
    try {
      var url = new URL(iri);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  /**
   * YASR's table, drawing every cell and column title from escaped text. The stock plugin puts
   * values, datatypes and language tags into its HTML after DOMPurify at best (which keeps
   * <img>, <form> and links); DataTables also writes the search text of a cell into a detached
   * element's innerHTML. Here DataTables only ever receives escaped strings.
   */
  var StockTable = Yasgui.Yasr.plugins.table;

  class TextTable extends StockTable {
    constructor(yasr) {
      super(yasr);
      if (german) this.label = "Tabelle";
    }

    /** An IRI as `<iri>` (or `prefix:name`), a link when it is an http(s) URL. */
    iriHtml(iri, queryPrefixes) {
      var shown = iri;
      var abbreviated = false;
      // The query's own prefixes first, then the ones this dataset uses (rdf, xsd, schema, …).
      var prefixes = Object.assign({}, config.prefixes || {}, queryPrefixes || {});
      var longest = Object.keys(prefixes).sort(function (a, b) {
        return prefixes[b].length - prefixes[a].length;
      });
      for (var i = 0; i < longest.length; i++) {
        var prefix = longest[i];
        var namespace = prefixes[prefix];
        if (namespace && iri.indexOf(namespace) === 0) {
          shown = prefix + ":" + iri.substring(namespace.length);
          abbreviated = true;
          break;
        }
      }
      var bare = abbreviated || this.persistentConfig.compact;
      var text = escapeHtml(shown);
      var url = webUrl(followed(iri));
      if (url) {
        var newWindow = this.config.openIriInNewWindow;
        text =
          '<a class="iri" href="' +
          escapeHtml(url) +
          '"' +
          (newWindow ? ' target="_blank" rel="noopener noreferrer"' : "") +
          ">" +
          text +
          "</a>";
      }
      return bare ? text : "&lt;" + text + "&gt;";
    }

    /** A literal as `"text"`, with `@lang` or `^^datatype` unless the table is compact. */
    literalHtml(binding, prefixes) {
      var text = escapeHtml(binding.value);
      if (this.persistentConfig.compact) return text;
      if (binding["xml:lang"]) {
        return '"' + text + '"<sup>@' + escapeHtml(binding["xml:lang"]) + "</sup>";
      }
      if (binding.datatype) {
        var datatype = this.iriHtml(String(binding.datatype), prefixes);
        return '"' + text + '"<sup>^^' + datatype + "</sup>";
      }
      return text;
    }

    /** One cell, in the markup the stock plugin's ellipsis handling expects (div > span). */
    getCellContent(binding, prefixes) {
      if (binding.type === "uri") {
        return "<div><span>" + this.iriHtml(String(binding.value), prefixes) + "</span></div>";
      }
      var literal = binding.type === "literal" || binding.type === "typed-literal";
      var value = literal
        ? this.literalHtml(binding, prefixes)
        : escapeHtml(valueText(binding.value)); // blank nodes
      return "<div><span class='nonIri'>" + value + "</span></div>";
    }

    /** The stock row-number column, then one column per variable, titled with escaped text. */
    getColumns() {
      var columns = super.getColumns();
      if (!columns.length) return columns;
      var prefixes = this.yasr.getPrefixes();
      var table = this;
      return [columns[0]].concat(
        this.yasr.results.getVariables().map(function (name) {
          return {
            name: name,
            title: escapeHtml(name),
            render: function (cell, type) {
              if (cell === "") return cell;
              if (type === "display") return table.getCellContent(cell, prefixes);
              return escapeHtml(valueText(cell.value)); // filtering and sorting
            },
          };
        }),
      );
    }
  }
  Yasgui.Yasr.registerPlugin("table", TextTable);

  /**
   * The editor's own words in the page's language. YASGUI has no translations: the plugin
   * labels, the table's words (DataTables' language option) and the tab name are set here; the
   * titles, placeholders and labels YASGUI writes into its controls are translated as they
   * appear (never inside the results or the query text).
   */
  var GERMAN = {
    "Simple view": "Einfache Ansicht",
    Ellipse: "Kürzen",
    "Show all": "Alle zeigen",
    Table: "Tabelle",
    Response: "Antwort",
    "Filter query results": "Ergebnisse filtern",
    "Add tab": "Neuer Reiter",
    "Close tab": "Reiter schließen",
    "Download result": "Ergebnis herunterladen",
    "Download not supported": "Herunterladen hier nicht möglich",
    "Run query": "Abfrage ausführen",
    "Share query": "Abfrage teilen",
    "Clear endpoint": "Endpunkt leeren",
    Query: "Abfrage",
  };
  var DOCUMENTATION = "View documentation of ";
  if (german) {
    var StockResponse = Yasgui.Yasr.plugins.response;
    class GermanResponse extends StockResponse {
      constructor(yasr) {
        super(yasr);
        this.label = "Antwort";
      }
    }
    Yasgui.Yasr.registerPlugin("response", GermanResponse);
    StockTable.defaults.tableConfig.language = Object.assign(
      {},
      StockTable.defaults.tableConfig.language,
      {
        emptyTable: "Keine Daten",
        info: "_START_ bis _END_ von _TOTAL_ _ENTRIES-TOTAL_",
        infoEmpty: "0 Einträge",
        infoFiltered: "(gefiltert aus _MAX_ _ENTRIES-MAX_)",
        lengthMenu: "_MENU_ _ENTRIES_ je Seite",
        search: "Suche:",
        zeroRecords: "Keine passenden Einträge",
        entries: { _: "Einträge", 1: "Eintrag" },
      },
    );
  }

  var OUTSIDE = ".yasr_results, .CodeMirror-lines"; // the results and the query: never translated

  /** Translates the words YASGUI wrote into ``element`` and the controls below it. */
  function localise(element) {
    if (!german || element.nodeType !== 1 || element.closest(OUTSIDE)) return;
    var nodes = [element].concat(
      Array.from(element.querySelectorAll("[title], [placeholder], [aria-label], span, button, a")),
    );
    nodes.forEach(function (node) {
      if (node.closest(OUTSIDE)) return;
      ["title", "placeholder", "aria-label"].forEach(function (name) {
        var value = node.getAttribute(name);
        if (value && GERMAN[value]) node.setAttribute(name, GERMAN[value]);
        else if (value && value.indexOf(DOCUMENTATION) === 0) {
          node.setAttribute(name, "Dokumentation zu " + value.substring(DOCUMENTATION.length));
        }
      });
      if (node.children.length === 0) {
        var text = node.textContent.trim();
        if (GERMAN[text]) node.textContent = GERMAN[text];
      }
    });
  }

  // Only autocompleters that need no remote service: prefix.cc and LOV are not asked.
  Yasgui.Yasqe.defaults.autocompleters = ["prefixes", "variables"];
  Yasgui.Yasqe.defaults.prefixCcApi = null;

  /** Every request goes here: a function in YASGUI's requestConfig overrides the tab's value. */
  function ownEndpoint() {
    return endpoint;
  }

  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: ownEndpoint, method: "POST" },
    // The URL is read below, for the query alone; YASGUI would take endpoint= and headers= too.
    populateFromUrl: false,
    copyEndpointOnNewTab: false,
    endpointCatalogueOptions: {
      getData: function () {
        return [{ endpoint: endpoint }];
      },
      keys: [],
      renderItem: function (item, element) {
        var line = document.createElement("div");
        line.textContent = item.value.endpoint;
        element.appendChild(line);
      },
    },
    persistenceId: "kommunen-kg-" + endpoint,
    tabName: german ? "Abfrage" : "Query",
    yasqe: { value: config.defaultQuery },
  });
  window.kommunenKgYasgui = yasgui;
  var editorElement = document.getElementById("yasgui");
  localise(editorElement);
  if (german) {
    // Only where YASGUI changed something: a redrawn results table is skipped at once.
    new MutationObserver(function (records) {
      records.forEach(function (record) {
        localise(record.target);
      });
    }).observe(editorElement, {
      childList: true,
      subtree: true,
      attributes: true, // titles YASGUI sets on controls already in place
      attributeFilter: ["title", "placeholder", "aria-label"],
    });
  }

  /** Tabs kept from earlier visits may name another endpoint (typed, or from an old link). */
  function pinEndpoint(tab) {
    tab.setRequestConfig({ endpoint: endpoint });
    tab.setEndpoint(endpoint, []);
  }
  yasgui.persistentConfig.getTabs().forEach(function (id) {
    var tab = yasgui.getTab(id);
    if (tab) pinEndpoint(tab);
  });
  yasgui.emit("endpointHistoryChange", yasgui, []);

  /**
   * A shared link (?query=…, optionally tabTitle=, namedGraph=, defaultGraph=) opens its query
   * in a tab and runs it, as stock YASGUI does; a tab that already holds the query is reused, so
   * a reload does not pile up tabs. Every other parameter of the link is ignored.
   */
  function openSharedQuery() {
    var params = new URLSearchParams(window.location.search);
    var query = params.get("query");
    if (!query) return;
    var found = yasgui.persistentConfig.getTabs().filter(function (id) {
      var stored = yasgui.persistentConfig.getTab(id);
      return stored && stored.yasqe && stored.yasqe.value === query;
    })[0];
    var tab;
    if (found) {
      yasgui.selectTabId(found);
      tab = yasgui.getTab(found);
      if (tab.hasResults()) return;
    } else {
      var settings = {
        yasqe: { value: query },
        requestConfig: {
          endpoint: endpoint,
          namedGraphs: params.getAll("namedGraph"),
          defaultGraphs: params.getAll("defaultGraph"),
        },
      };
      if (params.get("tabTitle")) settings.name = params.get("tabTitle");
      tab = yasgui.addTab(true, settings);
    }
    tab.query().catch(function () {});
  }
  openSharedQuery();

  document.querySelectorAll("button[data-example]").forEach(function (button) {
    button.addEventListener("click", function () {
      var example = config.examples[Number(button.dataset.example)];
      var tab = yasgui.addTab(true, { name: example.title });
      tab.setQuery(example.query);
      tab.query().catch(function () {});
    });
  });
})();
