// Apache Jena's SHACL validator (jena-shacl), run by tests/shacl_engines.py as a second
// engine beside pyshacl and our own. One JVM run parses the shapes once, says which constraints
// Jena made of them, and validates each data graph it is given:
//
//   java -cp JARS JenaShacl.java SHAPES.nt CONSTRAINTS.txt DATA1.nt REPORT1.nt [DATA2.nt REPORT2.nt ...]
//
// (Java 11+ runs a single source file without a separate javac step.) Files are N-Triples;
// blank node labels are kept as written, so that CONSTRAINTS.txt ("shape component" per line)
// names the same nodes the caller wrote, and the caller can tell a constraint Jena skipped.
// Jena 4.5 ships no command that prints the parsed constraints, hence this file.

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import org.apache.jena.graph.Graph;
import org.apache.jena.graph.Node;
import org.apache.jena.riot.Lang;
import org.apache.jena.riot.RDFDataMgr;
import org.apache.jena.riot.RDFParser;
import org.apache.jena.riot.lang.LabelToNode;
import org.apache.jena.shacl.ShaclValidator;
import org.apache.jena.shacl.Shapes;
import org.apache.jena.shacl.ValidationReport;
import org.apache.jena.shacl.parser.Constraint;
import org.apache.jena.shacl.parser.Shape;
import org.apache.jena.sparql.graph.GraphFactory;

public class JenaShacl {
    static Graph read(String path) {
        Graph graph = GraphFactory.createDefaultGraph();
        RDFParser.source(path)
            .lang(Lang.NTRIPLES)
            .labelToNode(LabelToNode.createUseLabelAsGiven())
            .parse(graph);
        return graph;
    }

    static String term(Node node) {
        return node.isBlank() ? "_:" + node.getBlankNodeLabel() : "<" + node.getURI() + ">";
    }

    public static void main(String[] args) throws IOException {
        Shapes shapes = Shapes.parse(read(args[0]));
        try (PrintWriter out = new PrintWriter(
                Files.newBufferedWriter(Paths.get(args[1]), StandardCharsets.UTF_8))) {
            for (Shape shape : shapes.getShapeMap().values()) {
                for (Constraint constraint : shape.getConstraints()) {
                    out.println(term(shape.getShapeNode()) + " " + term(constraint.getComponent()));
                }
            }
        }
        for (int i = 2; i + 1 < args.length; i += 2) {
            ValidationReport report = ShaclValidator.get().validate(shapes, read(args[i]));
            try (OutputStream out = Files.newOutputStream(Paths.get(args[i + 1]))) {
                RDFDataMgr.write(out, report.getGraph(), Lang.NTRIPLES);
            }
        }
    }
}
